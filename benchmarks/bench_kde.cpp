// Kernel density benchmarks: the exact (production) path on 10k, 100k and 1M clustered incidents
// over a 20 km × 20 km grid of 25 m cells (800 × 800) with a quartic kernel of 250 m, on one thread
// and on all threads, and the brute-force oracle against the exact path on 10k incidents over a
// 5 km × 5 km window (200 × 200 cells), where it finishes in seconds.
//
//   streetsafe_bench_kde                          # everything
//   streetsafe_bench_kde --benchmark_filter=Exact # one family
//   streetsafe_bench_kde --peak-memory 1000000    # one 1M-incident estimate, then the peak RSS
//
// The incidents are a seeded mixture of Gaussian clusters (street-corner hotspots of 50–400 m) and
// a uniform background, in British National Grid metres.

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "streetsafe/kde.hpp"

namespace {

using namespace streetsafe;

constexpr double west = 520000, south = 170000, side = 20000; // a 20 km square of London-like BNG
constexpr double window_side = 5000;                           // the brute-force comparison window

/// `n` incidents: 80% in 60 Gaussian clusters, 20% uniform over the square. Seeded, so every run
/// and every benchmark sees the same points.
Incidents clustered_incidents(std::size_t n) {
    std::mt19937_64 rng(20240601);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    struct Cluster {
        double x, y, sigma, share;
    };
    std::vector<Cluster> clusters(60);
    std::vector<double> shares;
    for (Cluster& c : clusters) {
        c = {west + side * (0.05 + 0.9 * unit(rng)), south + side * (0.05 + 0.9 * unit(rng)), 50 + 350 * unit(rng),
             0.2 + unit(rng)};
        shares.push_back(c.share);
    }
    std::discrete_distribution<std::size_t> pick(shares.begin(), shares.end());
    Incidents incidents;
    incidents.x.reserve(n);
    incidents.y.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        double x, y;
        if (unit(rng) < 0.2) {
            x = west + side * unit(rng);
            y = south + side * unit(rng);
        } else {
            const Cluster& c = clusters[pick(rng)];
            x = std::clamp(c.x + c.sigma * normal(rng), west, west + side);
            y = std::clamp(c.y + c.sigma * normal(rng), south, south + side);
        }
        incidents.x.push_back(x);
        incidents.y.push_back(y);
    }
    incidents.weight.assign(n, 1.0);
    incidents.time.assign(n, no_time);
    incidents.time_end.assign(n, no_time);
    incidents.precision.assign(n, TimePrecision::none);
    incidents.category.assign(n, -1);
    incidents.source_row.resize(n);
    for (std::size_t i = 0; i < n; ++i) incidents.source_row[i] = std::int64_t(i);
    return incidents;
}

const Incidents& incidents_of_size(std::size_t n) {
    static std::map<std::size_t, Incidents> cache;
    auto it = cache.find(n);
    if (it == cache.end()) it = cache.emplace(n, clustered_incidents(n)).first;
    return it->second;
}

KdeOptions options(bool window, KdeMethod method) {
    KdeOptions o;
    o.kernel = Kernel::quartic;
    o.bandwidth_m = 250;
    o.cell_m = 25;
    o.method = method;
    const double w = window ? window_side : side;
    const double x0 = window ? west + (side - w) / 2 : west, y0 = window ? south + (side - w) / 2 : south;
    o.bounds = Bounds{x0, y0, x0 + w, y0 + w};
    return o;
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0; // KiB on Linux
}

void run(benchmark::State& state, std::size_t n, int threads, bool window, KdeMethod method) {
    const Incidents& incidents = incidents_of_size(n);
    const KdeOptions o = options(window, method);
    Context context;
    context.threads = threads;
    std::size_t cells = 0;
    for (auto _ : state) {
        Grid grid = kde(incidents, o, context);
        cells = grid.size();
        benchmark::DoNotOptimize(grid.values.data());
        benchmark::ClobberMemory();
    }
    state.counters["incidents"] = double(n);
    state.counters["cells"] = double(cells);
    state.counters["incidents/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_rss_MB"] = peak_rss_mb(); // of the whole process so far: see --peak-memory
}

void BM_KdeExact(benchmark::State& state) {
    run(state, std::size_t(state.range(0)), int(state.range(1)), false, KdeMethod::exact);
}
// Args: incidents, threads (0: all hardware threads).
BENCHMARK(BM_KdeExact)
    ->ArgNames({"incidents", "threads"})
    ->ArgsProduct({{10'000, 100'000, 1'000'000}, {1, 0}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_KdeExactWindow(benchmark::State& state) {
    run(state, std::size_t(state.range(0)), int(state.range(1)), true, KdeMethod::exact);
}
BENCHMARK(BM_KdeExactWindow)->ArgNames({"incidents", "threads"})->Args({10'000, 1})->Unit(benchmark::kMillisecond);

void BM_KdeBruteForceWindow(benchmark::State& state) {
    run(state, std::size_t(state.range(0)), 1, true, KdeMethod::brute_force);
}
BENCHMARK(BM_KdeBruteForceWindow)->ArgNames({"incidents"})->Arg(10'000)->Unit(benchmark::kMillisecond)->Iterations(1);

} // namespace

int main(int argc, char** argv) {
    // --peak-memory N: one exact estimate of N incidents on all threads in a fresh process, then
    // the process's peak resident memory, before and after (the incidents alone are the "before").
    if (argc == 3 && std::strcmp(argv[1], "--peak-memory") == 0) {
        const auto n = std::size_t(std::strtoull(argv[2], nullptr, 10));
        const Incidents& incidents = incidents_of_size(n);
        const double before = peak_rss_mb();
        const Grid grid = kde(incidents, options(false, KdeMethod::exact));
        std::printf("incidents %zu, cells %zu: peak RSS %.1f MB before the estimate, %.1f MB after\n", n,
                    grid.size(), before, peak_rss_mb());
        return 0;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
