#pragma once

// The streetsafe CLI's subcommands (one command_<verb>.cpp each) and the few formatting helpers
// they share. main.cpp dispatches and turns exceptions into exit codes.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "streetsafe/incidents.hpp"

namespace streetsafe::cli {

/// Registers `streetsafe hotspots`: incidents → kernel density GeoTIFF.
void add_hotspots_command(CLI::App& app);

/// Registers `streetsafe info`: a summary of a raster.
void add_info_command(CLI::App& app);

/// Registers `streetsafe gistar`: incidents → Getis-Ord Gi* z-score and class GeoTIFFs.
void add_gistar_command(CLI::App& app);

/// Registers `streetsafe areas`: incidents per area (wards, LSOAs) → styled GeoPackage.
void add_areas_command(CLI::App& app);

/// Registers `streetsafe evaluate`: PAI / PEI / RRI of a KDE of one period against the next.
void add_evaluate_command(CLI::App& app);

/// How a subcommand reads its incidents, and the preset and severity weights applied after
/// (incident_input.cpp).
struct IncidentInput {
    std::string input, layer, working_crs, source_crs, time_zone;
    std::vector<std::string> categories;
    std::string preset;                  ///< --preset: a category preset's name
    std::string weights;                 ///< --weights: a category,weight CSV
    std::optional<double> default_weight; ///< --default-weight
};
/// Adds `layer_option` (e.g. "--layer"), --crs, --source-crs, --category and the preset options.
void add_incident_input_options(CLI::App* cmd, IncidentInput& o, const std::string& layer_option);
/// Adds --preset, --weights and --default-weight.
void add_preset_options(CLI::App* cmd, IncidentInput& o);
/// Reads `o.input`, then applies select_and_weight; InvalidInput when no incident is left.
Incidents read_incident_input(const IncidentInput& o, bool quiet);
/// Keeps the preset's categories and multiplies weights by the severity table, as `o` asks,
/// printing a line for each on stdout unless `quiet`.
Incidents select_and_weight(Incidents incidents, const IncidentInput& o, bool quiet);

/// printf-style formatting into a std::string.
template <class... Args> std::string format(const char* pattern, Args... args) {
    const int n = std::snprintf(nullptr, 0, pattern, args...);
    std::string out(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
    std::snprintf(out.data(), out.size() + 1, pattern, args...);
    return out;
}

/// A CLI11 validator for numbers greater than `minimum` (or at least `minimum` when `inclusive`),
/// with a message users can act on: "--cell: must be a number of metres above 0, not '-5'".
inline CLI::Validator number_at_least(double minimum, bool inclusive, const std::string& what) {
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            double value = 0;
            std::size_t used = 0;
            try {
                value = std::stod(text, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            const bool ok = used == text.size() && std::isfinite(value) &&
                            (inclusive ? value >= minimum : value > minimum);
            if (ok) return {};
            return "must be " + what + (inclusive ? " of at least " : " above ") + format("%g", minimum) +
                   ", not '" + text + "'";
        },
        inclusive ? ">=" + format("%g", minimum) : ">" + format("%g", minimum));
}

/// 1234567 → "1,234,567".
inline std::string thousands(std::int64_t n) {
    const std::string digits = std::to_string(n < 0 ? -n : n);
    std::string out;
    if (n < 0) out.push_back('-');
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
        out.push_back(digits[i]);
    }
    return out;
}

/// A value with 4 significant digits for humans (no exponent for everyday magnitudes).
inline std::string number(double v) {
    if (std::isnan(v)) return "nan";
    if (v == std::floor(v) && std::abs(v) < 1e15) return thousands(static_cast<std::int64_t>(v));
    if (std::abs(v) >= 1e-3 && std::abs(v) < 1e7) {
        const int digits = std::abs(v) >= 1000 ? 1 : std::abs(v) >= 1 ? 3 : 5;
        std::string s = format("%.*f", digits, v);
        while (!s.empty() && s.back() == '0')
            s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
        return s;
    }
    return format("%.4g", v);
}

/// A coordinate in metres, to the decimetre.
inline std::string coordinate(double v) {
    return format("%.1f", v);
}

} // namespace streetsafe::cli
