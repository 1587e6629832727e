// Knox near-repeat test benchmark: 10k incidents uniform over a 10 km × 10 km square and two
// years (times to the minute), the Near Repeat Calculator's default-like bands (0-400 m by 100 m,
// 0-28 days by 7 days) and 999 permutations, on one thread and on all threads. The speed goal is
// under 10 s on two cores.
//
//   streetsafe_bench_knox
//   streetsafe_bench_knox --benchmark_filter=Threads/1

#include <cstdint>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "streetsafe/clusters.hpp"

namespace {

using namespace streetsafe;

Incidents uniform_incidents(std::size_t n) {
    std::mt19937_64 rng(20090101);
    std::uniform_real_distribution<double> pos(0.0, 10000.0);
    std::uniform_int_distribution<LocalSeconds> minute(0, 730 * 1440 - 1);
    Incidents inc;
    for (std::size_t i = 0; i < n; ++i) {
        inc.x.push_back(500000 + pos(rng));
        inc.y.push_back(4270000 + pos(rng));
        inc.time.push_back(local_seconds(2017, 1, 1) + minute(rng) * 60);
    }
    inc.time_end = inc.time;
    inc.precision.assign(n, TimePrecision::minute);
    inc.category.assign(n, -1);
    inc.weight.assign(n, 1.0);
    inc.source_row.resize(n);
    return inc;
}

void Knox10kBy999(benchmark::State& state) {
    static const Incidents inc = uniform_incidents(10000);
    const Context context{.threads = int(state.range(0))};
    std::size_t pairs = 0;
    for (auto _ : state) {
        const KnoxResult r = knox_test(inc, {.permutations = 999}, context);
        pairs = r.close_pairs;
        benchmark::DoNotOptimize(r.p_value.data());
    }
    state.counters["close_pairs"] = double(pairs);
}
BENCHMARK(Knox10kBy999)->ArgName("Threads")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->Iterations(1);

} // namespace

BENCHMARK_MAIN();
