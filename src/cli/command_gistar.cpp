// streetsafe gistar: incidents → counts per cell → Getis-Ord Gi*, written as two GeoTIFFs with QGIS
// styles (the z-scores, and ArcGIS' −3 … +3 confidence classes), optionally the hot spots at 95%+
// confidence dissolved into polygons in a styled GeoPackage.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/hotspots.hpp"
#include "streetsafe/io.hpp"

namespace streetsafe::cli {

namespace {

struct GistarOptions {
    IncidentInput in;
    std::string output;
    std::string polygons;
    double cell_m = 100;
    double distance_band_m = 0;
    int k = 0;
    bool no_fdr = false;
    bool no_style = false;
    int threads = 0;
    bool quiet = false;
};

/// `hotspots_gi.tif` → `hotspots_gi_classes.tif`.
std::string classes_path(const std::string& output) {
    const auto slash = output.find_last_of('/');
    const auto dot = output.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return output + "_classes.tif";
    return output.substr(0, dot) + "_classes" + output.substr(dot);
}

/// The z-scores coloured as ArcGIS' classes: the breaks are the two-sided 90/95/99% critical
/// values, so that the colours of the z raster and of the class raster agree.
LayerStyle z_style(const Grid& z) {
    double lo = -3, hi = 3;
    for (double v : z.values)
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    LayerStyle style = gi_bin_style("z");
    style.kind = LayerStyle::Kind::graduated;
    style.field = "band 1";
    style.values.clear();
    style.breaks = {-2.576, -1.960, -1.645, 1.645, 1.960, 2.576, std::max(hi, 2.577)};
    style.lower = std::min(lo, -2.577);
    style.title = "Gi* z-score";
    return style;
}

void run(const GistarOptions& o) {
    if (!o.output.ends_with(".tif") && !o.output.ends_with(".tiff"))
        throw InvalidInput("-o: the z-score raster must be a GeoTIFF (.tif), not '" + o.output + "'");
    if (!o.polygons.empty() && !o.polygons.ends_with(".gpkg"))
        throw InvalidInput("--polygons: must be a GeoPackage (.gpkg), not '" + o.polygons + "'");
    GiStarOptions gi;
    gi.distance_band_m = o.distance_band_m;
    gi.k_neighbours = o.k;
    gi.fdr = !o.no_fdr;
    gi.validate();

    const Incidents incidents = read_incident_input(o.in, o.quiet);
    const Grid counts = count_grid(incidents, o.cell_m);
    Context context;
    context.threads = o.threads;
    const GridGiStar result = gi_star(counts, gi, context);

    write_geotiff(result.z, o.output);
    const std::string classes = classes_path(o.output);
    write_geotiff(result.classes, classes);
    if (!o.no_style) {
        write_raster_qml(o.output, z_style(result.z));
        write_raster_qml(classes, gi_bin_style("band 1"));
    }
    std::size_t hot = 0, cold = 0;
    for (std::int8_t c : result.stats.classes()) {
        if (c >= 2) ++hot;
        if (c <= -2) ++cold;
    }

    HotspotSummary summary;
    if (!o.polygons.empty()) {
        HotspotPolygonOptions options;
        options.selection = HotspotSelection::at_least;
        options.threshold = 2; // hot at 95% confidence or more
        const FeatureTable table = hotspot_polygons(result.classes, incidents, options, &summary, context);
        write_hotspots_gpkg(o.polygons, "gi_hotspots", table, "incidents");
    }
    if (o.quiet) return;
    const auto& s = result.stats;
    std::cout << "incidents  " << thousands(std::int64_t(incidents.size())) << " (total weight "
              << number(incidents.total_weight()) << ")\n"
              << "grid       " << counts.cols << " columns x " << counts.rows << " rows of " << number(counts.cell_m)
              << " m cells\n"
              << "neighbours "
              << (s.k_neighbours > 0 ? "k = " + std::to_string(s.k_neighbours) + " nearest cells"
                                     : "within " + number(s.distance_band_m) + " m")
              << (s.isolated > 0 ? " (" + thousands(std::int64_t(s.isolated)) + " cells isolated)" : "") << '\n'
              << "classes    " << thousands(std::int64_t(hot)) << " hot and " << thousands(std::int64_t(cold))
              << " cold cells at 95%+ confidence" << (gi.fdr ? " (FDR-corrected)" : "") << '\n'
              << "written    " << o.output << " (z-score), " << classes << " (class -3 … 3)\n";
    if (!o.polygons.empty())
        std::cout << "polygons   " << thousands(std::int64_t(summary.polygons)) << " hot spots with "
                  << number(summary.incidents_selected) << " incidents, written to " << o.polygons << '\n';
}

} // namespace

void add_gistar_command(CLI::App& app) {
    auto o = std::make_shared<GistarOptions>();
    CLI::App* cmd = app.add_subcommand("gistar", "Getis-Ord Gi* hot and cold spots of incident counts per cell");
    cmd->footer("Examples:\n"
                "  streetsafe gistar data/demo_incidents.csv -o gi.tif --cell 100 --distance-band 300\n"
                "  streetsafe gistar incidents.csv -o gi.tif --cell 150 --k 8 --no-fdr --polygons gi_hot.gpkg\n"
                "\n"
                "Writes two GeoTIFFs, each with a QGIS style sidecar (.qml): OUT.tif holds the z-scores,\n"
                "OUT_classes.tif ArcGIS' classes (3/2/1 hot at 99/95/90% confidence, -3/-2/-1 cold, 0 not\n"
                "significant; FDR-corrected unless --no-fdr). Without --distance-band or --k the band is\n"
                "chosen automatically (as ArcGIS' Optimized Hot Spot Analysis) and printed.\n"
                "--polygons dissolves the hot cells at 95%+ confidence into a styled GeoPackage layer.\n"
                "Exit codes: 0 done, 2 invalid input, 3 file error, 4 CRS error, 1 other error.");
    cmd->add_option("INPUT", o->in.input, "Incidents: CSV (.csv.gz too), GeoPackage, GeoJSON, Shapefile, PG:...")
        ->required();
    cmd->add_option("-o,--out", o->output, "GeoTIFF of z-scores to write (classes go to OUT_classes.tif)")
        ->required();
    cmd->add_option("--cell", o->cell_m, "Cell size in metres")
        ->capture_default_str()
        ->check(number_at_least(0, false, "a number of metres"));
    auto* band = cmd->add_option("--distance-band", o->distance_band_m, "Neighbours within this many metres")
                     ->check(number_at_least(0, false, "a number of metres"));
    cmd->add_option("--k", o->k, "Instead, the k nearest cells")
        ->check(number_at_least(1, true, "a whole number"))
        ->excludes(band);
    cmd->add_flag("--no-fdr", o->no_fdr, "Classes from raw p-values, without the False Discovery Rate correction");
    cmd->add_option("--polygons", o->polygons, "Also write the hot spots (95%+) as polygons to this GeoPackage");
    cmd->add_flag("--no-style", o->no_style, "Do not write the .qml style sidecars");
    add_incident_input_options(cmd, o->in, "--layer");
    cmd->add_option("--threads", o->threads, "Worker threads; 0 for all (the result does not depend on it)")
        ->check(number_at_least(0, true, "a whole number"));
    cmd->add_flag("-q,--quiet", o->quiet, "Print nothing on success");
    cmd->callback([o] { run(*o); });
}

} // namespace streetsafe::cli
