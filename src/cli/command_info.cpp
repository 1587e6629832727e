// streetsafe info: what a raster holds — size, CRS, extent, units, metadata, statistics and the
// highest cells with their coordinates (the "summary" step of the demo).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "streetsafe/crs.hpp"
#include "streetsafe/grid.hpp"

namespace streetsafe::cli {

namespace {

struct InfoOptions {
    std::string input;
    int top = 5;
};

bool valid(const Grid& g, double v) {
    return !std::isnan(v) && (std::isnan(g.nodata) || v != g.nodata);
}

/// Indices of the `n` highest valid cells, highest first (ties: the northernmost, then westernmost).
std::vector<std::size_t> top_cells(const Grid& g, std::size_t n) {
    std::vector<std::size_t> cells;
    for (std::size_t i = 0; i < g.values.size(); ++i)
        if (valid(g, g.values[i])) cells.push_back(i);
    n = std::min(n, cells.size());
    const auto higher = [&g](std::size_t a, std::size_t b) {
        return g.values[a] != g.values[b] ? g.values[a] > g.values[b] : a < b;
    };
    std::partial_sort(cells.begin(), cells.begin() + static_cast<std::ptrdiff_t>(n), cells.end(), higher);
    cells.resize(n);
    return cells;
}

void run(const InfoOptions& o) {
    const Grid grid = read_raster(o.input);
    const GridSummary s = summarize(grid);
    const Bounds b = grid.bounds();

    std::string crs = "none";
    if (!grid.crs_wkt.empty()) {
        const Crs resolved = resolve_crs(grid.crs_wkt);
        crs = resolved.name + (resolved.authority.empty() ? "" : " (" + resolved.authority + ")");
    }
    std::cout << o.input << '\n'
              << "  size       " << grid.cols << " columns x " << grid.rows << " rows of "
              << number(grid.cell_m) << " m cells ("
              << format("%.2f x %.2f km", b.width() / 1000, b.height() / 1000) << ")\n"
              << "  crs        " << crs << '\n'
              << "  extent     x " << coordinate(b.min_x) << " to " << coordinate(b.max_x) << ", y "
              << coordinate(b.min_y) << " to " << coordinate(b.max_y) << '\n'
              << "  units      " << (grid.units.empty() ? "not stated" : grid.units) << '\n'
              << "  nodata     " << number(grid.nodata) << '\n';
    if (!grid.metadata.empty()) {
        std::cout << "  metadata\n";
        for (const auto& [key, value] : grid.metadata)
            std::cout << "    " << key << " = " << value << '\n';
    }
    std::cout << "  cells      " << thousands(static_cast<std::int64_t>(s.valid_cells)) << " valid, "
              << thousands(static_cast<std::int64_t>(s.nonzero_cells)) << " non-zero\n";
    if (s.valid_cells == 0) return;
    std::cout << "  values     min " << number(s.min) << ", max " << number(s.max) << ", mean "
              << number(s.mean) << ", sum " << number(s.sum) << '\n';
    const auto top = top_cells(grid, static_cast<std::size_t>(o.top));
    if (top.empty()) return;
    std::cout << "  top " << top.size() << " cells (centre x, y: value)\n";
    for (std::size_t rank = 0; rank < top.size(); ++rank) {
        const std::size_t r = top[rank] / grid.cols, c = top[rank] % grid.cols;
        std::cout << format("    %zu. %s, %s: ", rank + 1, coordinate(grid.centre_x(c)).c_str(),
                            coordinate(grid.centre_y(r)).c_str())
                  << number(grid.values[top[rank]]) << '\n';
    }
}

} // namespace

void add_info_command(CLI::App& app) {
    auto o = std::make_shared<InfoOptions>();
    CLI::App* cmd =
        app.add_subcommand("info", "Summarise a raster: size, CRS, extent, statistics, top cells");
    cmd->footer("Examples:\n"
                "  streetsafe info hotspots.tif\n"
                "  streetsafe info hotspots.tif --top 10");
    cmd->add_option("RASTER", o->input, "Raster to describe (GeoTIFF or any GDAL raster)")->required();
    cmd->add_option("--top", o->top, "How many of the highest cells to list")
        ->capture_default_str()
        ->check(number_at_least(0, true, "a whole number"));
    cmd->callback([o] { run(*o); });
}

} // namespace streetsafe::cli
