// Incident input shared by the analysis subcommands (gistar, areas, and the preset / weights
// options of hotspots): the options that say how to read incidents, and the preset selection and
// severity weighting applied after reading, each reporting on stdout what it did.

#include <cstdint>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/presets.hpp"

namespace streetsafe::cli {

void add_incident_input_options(CLI::App* cmd, IncidentInput& o, const std::string& layer_option) {
    cmd->add_option(layer_option, o.layer, "Layer of a multi-layer incidents input");
    cmd->add_option("--crs", o.working_crs, "Working CRS in metres (default: EPSG:27700 in GB, else UTM)");
    cmd->add_option("--source-crs", o.source_crs, "CRS of the input coordinates (default: the layer's or EPSG:4326)");
    cmd->add_option("--time-zone", o.time_zone, "IANA zone of the times (default: Europe/London for police.uk, else UTC)");
    cmd->add_option("--category", o.categories, "Keep only this category value (repeatable)")
        ->allow_extra_args(false);
    add_preset_options(cmd, o);
}

void add_preset_options(CLI::App* cmd, IncidentInput& o) {
    cmd->add_option("--preset", o.preset,
                    "Keep the categories of a named preset, e.g. police.uk:serious-violence");
    cmd->add_option("--weights", o.weights,
                    "Severity weights: a CSV of category,weight multiplying each incident's weight");
    cmd->add_option("--default-weight", o.default_weight,
                    "Weight for categories the --weights file does not list (default: an error)")
        ->check(number_at_least(0, true, "a number"));
}

Incidents read_incident_input(const IncidentInput& o, bool quiet) {
    ReadOptions options;
    options.layer = o.layer;
    options.working_crs = o.working_crs;
    options.source_crs = o.source_crs;
    options.categories = o.categories;
    options.time_zone = o.time_zone;
    LoadReport report;
    Incidents incidents = read_incidents(o.input, options, &report);
    if (incidents.empty())
        throw InvalidInput("no incidents to analyse: none of the " + thousands(report.rows_read) + " rows of '" +
                           o.input + "' could be used");
    return select_and_weight(std::move(incidents), o, quiet);
}

Incidents select_and_weight(Incidents incidents, const IncidentInput& o, bool quiet) {
    if (!o.preset.empty()) {
        const std::size_t before = incidents.size();
        incidents = select_preset(incidents, o.preset);
        if (!quiet)
            std::cout << "preset     " << o.preset << ": " << thousands(std::int64_t(incidents.size())) << " of "
                      << thousands(std::int64_t(before)) << " incidents\n";
        if (incidents.empty()) throw InvalidInput("--preset " + o.preset + " selects no incidents");
    }
    if (!o.weights.empty()) {
        const SeverityWeights weights = read_severity_weights(o.weights);
        SeverityOptions options;
        options.default_weight = o.default_weight;
        const SeverityReport r = apply_severity_weights(incidents, weights, options);
        if (!quiet) {
            std::cout << "weights    " << o.weights << ": total weight " << number(incidents.total_weight());
            if (r.unweighted_incidents > 0)
                std::cout << "; " << thousands(std::int64_t(r.unweighted_incidents))
                          << " incidents given the default weight";
            std::cout << '\n';
        }
    }
    return incidents;
}

} // namespace streetsafe::cli
