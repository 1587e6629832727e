// A program built against the installed streetsafe package: it computes a density and checks
// that the mass of one incident comes back.
#include <cmath>
#include <cstdio>

#include <streetsafe/streetsafe.hpp>

int main() {
    const double x[] = {530000.0};
    const double y[] = {180000.0};
    streetsafe::ArrayInput input{.x = x, .y = y, .crs = "EPSG:27700"};
    const auto incidents = streetsafe::incidents_from_arrays(input);
    const auto grid = streetsafe::kde(incidents, {.bandwidth_m = 200, .cell_m = 20});
    const double mass = grid.integral(true);
    std::printf("streetsafe %s: mass %.9f\n", streetsafe::version().c_str(), mass);
    return std::abs(mass - 1.0) < 1e-9 ? 0 : 1;
}
