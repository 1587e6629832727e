// streetsafe areas: incidents per area of a polygon layer (wards, LSOAs), with rates per 1,000
// residents from a population field or table, written as a QGIS-styled GeoPackage choropleth; the
// areas with the highest rates printed on stdout.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "streetsafe/areas.hpp"
#include "streetsafe/error.hpp"

namespace streetsafe::cli {

namespace {

struct AreasOptions {
    IncidentInput in;
    std::string areas, layer, id_field, name_field, population_field, where;
    std::string population, population_key, population_value, population_where;
    std::string output, output_layer = "area_rates";
    double min_population = 0;
    bool weighted = false;
    int top = 10;
    bool quiet = false;
};

void print_top(const AreasOptions& o, const AreaLayer& areas, const AreaRates& rates) {
    const bool by_rate = std::any_of(rates.rank_by_rate.begin(), rates.rank_by_rate.end(),
                                     [](std::int64_t r) { return r > 0; });
    const auto& rank = by_rate ? rates.rank_by_rate : rates.rank_by_count;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < rates.size(); ++i)
        if (rank[i] > 0) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rank[a] < rank[b]; });
    if (order.size() > static_cast<std::size_t>(o.top)) order.resize(static_cast<std::size_t>(o.top));

    std::cout << "areas      " << thousands(std::int64_t(areas.size())) << " in " << o.areas << '\n'
              << "incidents  " << number(rates.total) << (rates.weighted ? " (weighted)" : "") << ", "
              << thousands(rates.outside_count) << " outside every area\n"
              << "top " << order.size() << " by " << (by_rate ? "rate per 1,000 residents" : "incidents") << ":\n";
    for (std::size_t i : order) {
        std::string label = areas.ids[i];
        if (!areas.names.empty() && !areas.names[i].empty()) label += " " + areas.names[i];
        std::cout << format("  %3lld  ", static_cast<long long>(rank[i])) << label << "  "
                  << number(rates.measure(i)) << " incidents";
        if (by_rate) std::cout << ", " << number(rates.rate_per_1000[i]) << " per 1,000";
        std::cout << ", " << number(rates.density_per_km2[i]) << " per km2\n";
    }
    std::cout << "written    " << o.output << " (layer " << o.output_layer << ")\n";
}

void run(const AreasOptions& o) {
    if (!o.output.ends_with(".gpkg"))
        throw InvalidInput("-o: must be a GeoPackage (.gpkg), not '" + o.output + "'");
    if (!o.population.empty() && (o.population_key.empty() || o.population_value.empty()))
        throw InvalidInput("--population needs --population-key and --population-value");
    AreaRateOptions rate_options;
    rate_options.weighted = o.weighted;
    rate_options.min_population = o.min_population;
    rate_options.validate();

    AreaReadOptions read;
    read.layer = o.layer;
    read.id_field = o.id_field;
    read.name_field = o.name_field;
    read.population_field = o.population_field;
    read.where = o.where;
    read.working_crs = o.in.working_crs;
    AreaLayer areas = read_areas(o.areas, read);
    if (areas.size() == 0) throw InvalidInput("--areas: '" + o.areas + "' has no areas with a geometry");
    if (!o.population.empty()) {
        const auto missing =
            join_population(areas, o.population, o.population_key, o.population_value, o.population_where);
        if (!o.quiet && !missing.empty())
            std::cout << "population " << thousands(std::int64_t(missing.size())) << " areas without a row in "
                      << o.population << " (first: " << missing.front() << ")\n";
    }
    IncidentInput in = o.in;
    if (in.working_crs.empty()) in.working_crs = areas.crs.wkt; // one CRS for both
    const Incidents incidents = read_incident_input(in, o.quiet);
    const AreaRates rates = area_rates(areas, incidents, rate_options);
    write_area_rates_gpkg(o.output, o.output_layer, areas, rates);
    if (!o.quiet) print_top(o, areas, rates);
}

} // namespace

void add_areas_command(CLI::App& app) {
    auto o = std::make_shared<AreasOptions>();
    CLI::App* cmd = app.add_subcommand("areas", "Incidents and rates per area (wards, LSOAs), as a styled GeoPackage");
    cmd->footer(
        "Examples:\n"
        "  streetsafe areas incidents.csv --areas wards.gpkg --id-field WD22CD --name-field WD22NM \\\n"
        "      --population-field residents -o rates.gpkg\n"
        "  streetsafe areas incidents.csv --areas lsoa.gpkg --layer lsoa11 --id-field LSOA11CD \\\n"
        "      --where \"LAD11NM = 'Havering'\" --population mid_year.csv --population-key lsoa \\\n"
        "      --population-value all_ages --population-where \"mid_year = 2019\" -o havering.gpkg\n"
        "\n"
        "Each incident counts in the one area that covers it (on a shared boundary, the first).\n"
        "The GeoPackage layer is styled as a quantile choropleth of the rate per 1,000 residents\n"
        "(of incidents per km2 when no population is given). The top areas are printed.\n"
        "Exit codes: 0 done, 2 invalid input, 3 file error, 4 CRS error, 1 other error.");
    cmd->add_option("INPUT", o->in.input, "Incidents: CSV (.csv.gz too), GeoPackage, GeoJSON, Shapefile, PG:...")
        ->required();
    cmd->add_option("--areas", o->areas, "Polygon layer of the areas (any OGR source)")->required();
    cmd->add_option("--layer", o->layer, "Layer of the areas source (default: the first)");
    cmd->add_option("--id-field", o->id_field, "Field with each area's unique id")->required();
    cmd->add_option("--name-field", o->name_field, "Field with each area's name");
    cmd->add_option("--where", o->where, "OGR attribute filter on the areas, e.g. \"LAD11NM = 'Havering'\"");
    auto* field = cmd->add_option("--population-field", o->population_field, "Field of the areas with residents");
    auto* table = cmd->add_option("--population", o->population, "Table (CSV, ...) with residents per area")
                      ->excludes(field);
    cmd->add_option("--population-key", o->population_key, "Column of the table with the area id")->needs(table);
    cmd->add_option("--population-value", o->population_value, "Column of the table with residents")
        ->needs(table);
    cmd->add_option("--population-where", o->population_where, "Filter on the table, e.g. \"mid_year = 2019\"")
        ->needs(table);
    cmd->add_option("--min-population", o->min_population, "No rate for areas with fewer residents")
        ->check(number_at_least(0, true, "a number"));
    cmd->add_flag("--weighted", o->weighted, "Count incidents' weights (e.g. with --weights) instead of 1 each");
    cmd->add_option("-o,--out", o->output, "GeoPackage to write")->required();
    cmd->add_option("--out-layer", o->output_layer, "Layer name in the GeoPackage")->capture_default_str();
    cmd->add_option("--top", o->top, "How many areas to print")
        ->capture_default_str()
        ->check(number_at_least(0, true, "a whole number"));
    add_incident_input_options(cmd, o->in, "--incidents-layer");
    cmd->add_flag("-q,--quiet", o->quiet, "Print nothing on success");
    cmd->callback([o] { run(*o); });
}

} // namespace streetsafe::cli
