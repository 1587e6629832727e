// streetsafe hotspots: read incidents (any OGR source), compute a kernel density and write it as
// a GeoTIFF; a short summary on stdout, the load report and a progress bar on stderr on request.

#include <array>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "streetsafe/context.hpp"
#include "streetsafe/crs.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/hotspots.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/io.hpp"
#include "streetsafe/kde.hpp"
#include "streetsafe/time.hpp"

namespace streetsafe::cli {

namespace {

struct HotspotsOptions {
    std::string input;
    std::string output;
    double bandwidth_m = 250;
    double cell_m = 25;
    std::string kernel = "quartic";
    std::string values = "density";
    std::string normalisation = "discrete";
    std::vector<std::string> categories;
    std::string from, to;
    std::string working_crs, source_crs, layer;
    ColumnMapping columns;
    std::string time_zone;
    std::vector<double> bounds;
    std::string extent_from;
    int threads = 0;
    bool strict = false;
    bool report = false;
    bool quiet = false;
    bool progress = false;
    bool float32 = false;
    bool style = true;         ///< --style / --no-style: the .qml sidecar
    std::string polygons;      ///< --polygons OUT.gpkg
    double top_percent = 5;    ///< --top-percent
    bool gi_star = false;      ///< --gi-star: polygons of the Gi* hot cells instead
    IncidentInput selection;   ///< --preset, --weights, --default-weight
};

/// The density's quantile classes (of the cells above 0), pale yellow to dark red, blended.
LayerStyle density_style(const Grid& grid) {
    std::vector<double> values;
    for (double v : grid.values)
        if (std::isfinite(v) && v > 0) values.push_back(v);
    if (values.empty()) values.push_back(0);
    LayerStyle style = graduated_style("band 1", std::move(values), 5, grid.units);
    style.interpolate = true;
    return style;
}

/// `\r[#####     ]  50% kde` on stderr, redrawn when the percentage or the stage changes.
class ProgressBar {
  public:
    void operator()(double fraction, std::string_view stage) {
        const int percent = static_cast<int>(fraction * 100.0 + 1e-9);
        if (m_drawn && percent == m_percent && stage == m_stage) return;
        m_percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
        m_stage.assign(stage);
        constexpr int width = 30;
        const int filled = m_percent * width / 100;
        std::string line = "\r[" + std::string(static_cast<std::size_t>(filled), '#') +
                           std::string(static_cast<std::size_t>(width - filled), ' ') + "] " +
                           format("%3d%% ", m_percent) + m_stage;
        const std::size_t length = line.size();
        if (length < m_length) line.append(m_length - length, ' '); // erase a longer previous stage
        m_length = length;
        std::cerr << line << std::flush;
        m_drawn = true;
    }
    /// Ends the bar's line, if one was drawn.
    void finish() {
        if (m_drawn) std::cerr << '\n' << std::flush;
        m_drawn = false;
    }

  private:
    bool m_drawn = false;
    int m_percent = -1;
    std::string m_stage;
    std::size_t m_length = 0;
};

LocalSeconds parse_time_option(const std::string& option, const std::string& text, const std::string& zone) {
    const auto range = parse_time(text, zone);
    if (!range)
        throw InvalidInput(option + ": cannot parse '" + text +
                           "' as a time; expected e.g. 2023-06, 2023-06-01 or 2023-06-01T17:00");
    return range->start;
}

KdeOptions kde_options(const HotspotsOptions& o) {
    KdeOptions options;
    try {
        options.kernel = parse_kernel(o.kernel);
    } catch (const InvalidInput& e) {
        throw InvalidInput(std::string("--kernel: ") + e.what());
    }
    options.bandwidth_m = o.bandwidth_m;
    options.cell_m = o.cell_m;
    options.output = o.values == "count" ? KdeOutput::count_per_cell : KdeOutput::density_per_km2;
    options.normalisation =
        o.normalisation == "continuous" ? KdeNormalisation::continuous : KdeNormalisation::discrete;
    if (o.bounds.size() == 4) options.bounds = Bounds{o.bounds[0], o.bounds[1], o.bounds[2], o.bounds[3]};
    options.validate();
    return options;
}

ReadOptions read_options(const HotspotsOptions& o) {
    ReadOptions options;
    options.columns = o.columns;
    options.layer = o.layer;
    options.source_crs = o.source_crs;
    options.working_crs = o.working_crs;
    options.time_zone = o.time_zone;
    options.categories = o.categories;
    options.strict = o.strict;
    // --from/--to are local times of the data; the zone matters only for a text with a UTC offset.
    const std::string zone = o.time_zone.empty() ? "UTC" : o.time_zone;
    if (!o.time_zone.empty()) validate_time_zone(o.time_zone);
    if (!o.from.empty()) options.time_from = parse_time_option("--from", o.from, zone);
    if (!o.to.empty()) options.time_to = parse_time_option("--to", o.to, zone);
    if (options.time_from && options.time_to && *options.time_to <= *options.time_from)
        throw InvalidInput("--to " + o.to + " is not after --from " + o.from);
    return options;
}

constexpr std::array skip_reasons{
    SkipReason::missing_coordinate,  SkipReason::unparsable_coordinate, SkipReason::null_island,
    SkipReason::outside_crs_area,    SkipReason::transform_failed,      SkipReason::missing_time,
    SkipReason::unparsable_time,     SkipReason::non_finite_weight,     SkipReason::outside_category_filter,
    SkipReason::outside_time_filter, SkipReason::missing_geometry,
};

bool is_filter(SkipReason r) {
    return r == SkipReason::outside_category_filter || r == SkipReason::outside_time_filter ||
           r == SkipReason::missing_time;
}

/// "25 missing coordinate, 20 unparsable time" for the reasons `filters` selects (or the others).
std::string skip_counts(const LoadReport& report, bool filters) {
    std::string text;
    for (SkipReason r : skip_reasons)
        if (is_filter(r) == filters)
            if (const auto n = report.count(r); n > 0)
                text += (text.empty() ? "" : ", ") + thousands(n) + " " + std::string(to_string(r));
    return text;
}

std::string nothing_to_map(const std::string& input, const LoadReport& report) {
    if (report.rows_read == 0) return "no incidents to map: '" + input + "' has no rows";
    std::string reasons = skip_counts(report, true);
    if (const std::string unusable = skip_counts(report, false); !unusable.empty())
        reasons += (reasons.empty() ? "" : ", ") + unusable;
    return "no incidents to map: all " + thousands(report.rows_read) + " rows of '" + input +
           "' were skipped (" + reasons + ")";
}

std::string crs_label(const Crs& crs) {
    if (crs.authority.empty()) return crs.name;
    return crs.name + " (" + crs.authority + ")";
}

void print_summary(const HotspotsOptions& o, const Incidents& incidents, const LoadReport& report,
                   const Grid& grid) {
    const GridSummary s = summarize(grid);
    std::string used = thousands(static_cast<std::int64_t>(incidents.size())) + " used";
    if (const double w = incidents.total_weight(); w != static_cast<double>(incidents.size()))
        used += " (total weight " + number(w) + ")";
    if (const std::string filtered = skip_counts(report, true); !filtered.empty())
        used += "; filtered out: " + filtered;
    if (const std::string unusable = skip_counts(report, false); !unusable.empty())
        used += "; unusable rows skipped: " + unusable + (o.report ? "" : " (--report lists them)");
    std::string where = "(" + coordinate(s.max_x) + ", " + coordinate(s.max_y) + ")";
    if (incidents.crs.projected) {
        std::array<double, 1> x{s.max_x}, y{s.max_y};
        Transformer(incidents.crs, resolve_crs("EPSG:4326")).transform(x, y);
        if (std::isfinite(x[0]) && std::isfinite(y[0])) where += format(", lon %.5f lat %.5f", x[0], y[0]);
    }
    std::cout << "incidents  " << used << '\n'
              << "grid       " << grid.cols << " columns x " << grid.rows << " rows of "
              << number(grid.cell_m) << " m cells ("
              << format("%.2f x %.2f km", grid.bounds().width() / 1000, grid.bounds().height() / 1000)
              << ")\n"
              << "crs        " << crs_label(incidents.crs) << '\n'
              << "maximum    " << number(s.max) << ' ' << grid.units << " at " << where << '\n'
              << "written    " << o.output << '\n';
}

void run(const HotspotsOptions& o) {
    KdeOptions kde_opts = kde_options(o); // fail on bad options before reading anything
    const ReadOptions read_opts = read_options(o);
    if (!o.polygons.empty() && !o.polygons.ends_with(".gpkg"))
        throw InvalidInput("--polygons: must be a GeoPackage (.gpkg), not '" + o.polygons + "'");

    LoadReport report;
    const auto print_report = [&] {
        if (!o.report) return;
        std::string text = report.summary();
        if (!text.empty() && text.back() != '\n') text += '\n';
        std::cerr << text << std::flush;
    };
    Incidents incidents;
    try {
        incidents = read_incidents(o.input, read_opts, &report);
    } catch (const InvalidInput&) {
        // When every row was skipped (all filtered out, say), the reasons are the message.
        if (report.rows_read == 0 || static_cast<std::int64_t>(report.skipped.size()) < report.rows_read)
            throw;
        print_report();
        throw InvalidInput(nothing_to_map(o.input, report));
    }
    print_report();
    if (incidents.empty()) throw InvalidInput(nothing_to_map(o.input, report));
    incidents = select_and_weight(std::move(incidents), o.selection, o.quiet);
    if (!o.extent_from.empty()) kde_opts.bounds = layer_bounds(o.extent_from, "", incidents.crs.wkt);

    ProgressBar bar;
    Context context;
    context.threads = o.threads;
    if (o.progress || (!o.quiet && isatty(STDERR_FILENO) == 1))
        context.progress = [&bar](double fraction, std::string_view stage) { bar(fraction, stage); };
    Grid grid;
    try {
        grid = kde(incidents, kde_opts, context);
    } catch (...) {
        bar.finish();
        throw;
    }
    bar.finish();

    GeoTiffOptions tiff;
    tiff.float32 = o.float32;
    write_geotiff(grid, o.output, tiff);
    if (o.style) write_raster_qml(o.output, density_style(grid));
    if (!o.quiet) print_summary(o, incidents, report, grid);
    if (!o.polygons.empty()) {
        HotspotPolygonOptions options;
        options.selection = o.gi_star ? HotspotSelection::gi_star : HotspotSelection::top_percent;
        options.top_percent = o.top_percent;
        HotspotSummary summary;
        const FeatureTable table = hotspot_polygons(grid, incidents, options, &summary, context);
        write_hotspots_gpkg(o.polygons, "hotspots", table, o.gi_star ? "incidents" : "pai");
        if (!o.quiet)
            std::cout << "polygons   " << thousands(static_cast<std::int64_t>(summary.polygons)) << " hot spots, "
                      << number(summary.selected_area_km2) << " km2 with "
                      << number(summary.incidents_study > 0
                                    ? 100.0 * summary.incidents_selected / summary.incidents_study
                                    : 0.0)
                      << "% of the incidents, written to " << o.polygons << '\n';
    }
}

} // namespace

void add_hotspots_command(CLI::App& app) {
    auto o = std::make_shared<HotspotsOptions>();
    CLI::App* cmd = app.add_subcommand("hotspots", "Kernel density of incidents, written as a GeoTIFF");
    cmd->footer(
        "Examples:\n"
        "  streetsafe hotspots data/demo_incidents.csv -o hotspots.tif\n"
        "  streetsafe hotspots incidents.csv -o robbery_2023.tif --bandwidth 300 --cell 20 \\\n"
        "      --category Robbery --from 2023-01 --to 2024-01 --report\n"
        "  streetsafe hotspots 2023-06-metropolitan-street.csv -o june.tif --extent-from borough.geojson\n"
        "  streetsafe hotspots calls.gpkg --layer calls -o calls.tif --x easting --y northing \\\n"
        "      --source-crs EPSG:27700 --time received --time-zone Europe/London --output count\n"
        "  streetsafe hotspots street.csv -o sv.tif --preset police.uk:serious-violence \\\n"
        "      --weights harm.csv --polygons sv_hotspots.gpkg --top-percent 5\n"
        "\n"
        "Columns are recognised from police.uk and SLMPD headers and common names (lon/lat, x/y,\n"
        "time, category, ...); map them with --lon/--lat, --x/--y, --time, ... otherwise.\n"
        "--from/--to take the data's local time (a month, a date or a date and time); --to is\n"
        "exclusive: --from 2023-01 --to 2024-01 is the whole of 2023.\n"
        "A QGIS style sidecar (OUT.qml) is written beside the GeoTIFF unless --no-style.\n"
        "--polygons writes the top --top-percent of cells (or, with --gi-star, the cells hot at 95%+\n"
        "confidence by Gi* of the counts) as ranked polygons with their PAI, styled for QGIS.\n"
        "Exit codes: 0 done, 2 invalid input, 3 file error, 4 CRS error, 1 other error.");

    cmd->add_option("INPUT", o->input, "Incidents: CSV (.csv.gz too), GeoPackage, GeoJSON, Shapefile, PG:...")
        ->required();
    cmd->add_option("-o,--out", o->output, "GeoTIFF to write")->required();
    cmd->add_option("--bandwidth", o->bandwidth_m,
                    "Kernel bandwidth in metres (Gaussian: standard deviation)")
        ->capture_default_str()
        ->check(number_at_least(0, false, "a number of metres"));
    cmd->add_option("--cell", o->cell_m, "Cell size in metres")
        ->capture_default_str()
        ->check(number_at_least(0, false, "a number of metres"));
    cmd->add_option("--kernel", o->kernel, "quartic, epanechnikov, triangular, uniform or gaussian")
        ->capture_default_str();
    cmd->add_option("--output", o->values, "Cell values: density (incidents per km2) or count (per cell)")
        ->capture_default_str()
        ->check(CLI::IsMember({"density", "count"}));
    cmd->add_option("--normalisation", o->normalisation,
                    "discrete (each kernel sums exactly to its weight) or continuous (as QGIS)")
        ->capture_default_str()
        ->check(CLI::IsMember({"discrete", "continuous"}));
    cmd->add_option("--category", o->categories, "Keep only this category value (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--from", o->from, "Keep incidents from this local time on (e.g. 2023-01)");
    cmd->add_option("--to", o->to, "... and before this local time (exclusive, e.g. 2024-01)");
    cmd->add_option("--crs", o->working_crs, "Working CRS in metres (default: EPSG:27700 in GB, else UTM)");
    cmd->add_option("--source-crs", o->source_crs,
                    "CRS of the input coordinates (default: the layer's or EPSG:4326)");
    cmd->add_option("--layer", o->layer, "Layer of a multi-layer input");
    auto* x = cmd->add_option("--x", o->columns.x, "Column of projected x (easting)");
    auto* y = cmd->add_option("--y", o->columns.y, "Column of projected y (northing)");
    auto* lon = cmd->add_option("--lon", o->columns.lon, "Column of longitude");
    auto* lat = cmd->add_option("--lat", o->columns.lat, "Column of latitude");
    x->needs(y);
    y->needs(x);
    lon->needs(lat);
    lat->needs(lon);
    x->excludes(lon);
    x->excludes(lat);
    y->excludes(lon);
    y->excludes(lat);
    cmd->add_option("--time", o->columns.time, "Column of the time (or start of a range)");
    cmd->add_option("--time-end", o->columns.time_end, "Column of the end of a time range");
    cmd->add_option("--weight", o->columns.weight, "Column of weights");
    cmd->add_option("--id", o->columns.id, "Column of identifiers");
    cmd->add_option("--category-column", o->columns.category, "Column of categories");
    cmd->add_option("--time-zone", o->time_zone,
                    "IANA zone of the times (default: Europe/London for police.uk, else UTC)");
    auto* bounds =
        cmd->add_option("--bounds", o->bounds, "Grid extent in the working CRS: minx miny maxx maxy")
            ->expected(4)
            ->allow_extra_args(true);
    cmd->add_option("--extent-from", o->extent_from, "Take the grid extent from a vector file's first layer")
        ->excludes(bounds);
    cmd->add_option("--threads", o->threads, "Worker threads; 0 for all (the result does not depend on it)")
        ->capture_default_str()
        ->check(number_at_least(0, true, "a whole number"));
    cmd->add_flag("--strict", o->strict, "Fail at the first unusable row instead of skipping it");
    cmd->add_flag("--report", o->report, "Print the load report (skipped rows and why) to stderr");
    cmd->add_flag("--progress", o->progress,
                  "Show a progress bar on stderr (default: when it is a terminal)");
    cmd->add_flag("-q,--quiet", o->quiet, "Print nothing on success");
    cmd->add_flag("--float32", o->float32, "Store Float32 values (half the size)");
    cmd->add_flag("--style,!--no-style", o->style, "Write the QGIS .qml style beside the GeoTIFF (default: on)");
    auto* polygons = cmd->add_option("--polygons", o->polygons, "Also write hotspot polygons to this GeoPackage");
    auto* top = cmd->add_option("--top-percent", o->top_percent, "Polygons of the top share of cells, %")
                    ->capture_default_str()
                    ->check(number_at_least(0, false, "a percentage"))
                    ->needs(polygons);
    cmd->add_flag("--gi-star", o->gi_star, "Polygons of the Gi* hot cells (95%+) instead")
        ->needs(polygons)
        ->excludes(top);
    add_preset_options(cmd, o->selection);
    cmd->callback([o] { run(*o); });
}

} // namespace streetsafe::cli
