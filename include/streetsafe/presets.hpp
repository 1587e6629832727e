#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "streetsafe/incidents.hpp"

namespace streetsafe {

/// A field of the data that a preset's definition depends on.
struct RequiredField {
    std::string name;        ///< e.g. "offence_category", "victim_age", "domestic_abuse_flag"
    std::string description; ///< what it holds and why the definition needs it
};

/// A named definition of a group of offences, e.g. "serious violence" as one data source can
/// express it. A preset is either a list of category values of one source schema (usable as a
/// category filter), or a documented requirement only: a definition the known sources cannot
/// express, kept so that asking for it says exactly which fields are missing.
struct Preset {
    std::string name;                    ///< "police.uk:serious-violence", "slmpd:serious-violence", ...
    std::string schema;                  ///< LoadReport::schema it is written for; empty: none
    std::string column;                  ///< source column the category values come from
    std::vector<std::string> categories; ///< exact values; empty for a requirement-only preset
    std::vector<RequiredField> required_fields;
    std::string description;             ///< what it covers and what it leaves out

    [[nodiscard]] bool is_category_preset() const { return !categories.empty(); }
};

/// Every preset, in a fixed order.
const std::vector<Preset>& presets();

/// The presets' names, in the order of presets().
std::vector<std::string> preset_names();

/// The preset called `name`; throws InvalidInput listing the known names when there is none.
const Preset& preset(std::string_view name);

/// The category values of a category preset. Throws InvalidInput for an unknown name (listing the
/// known ones) and for a requirement-only preset (naming the fields it needs).
std::vector<std::string> preset_categories(std::string_view name);

/// Field names streetsafe's loaded incidents can offer to a preset: "offence_category" when any
/// incident has a category. Incidents carry no victim or domestic-abuse attributes, so those
/// fields are never offered.
std::vector<std::string> available_fields(const Incidents& incidents);

/// Throws InvalidInput when `available` lacks any field preset `name` requires, naming each
/// missing field and what it is for.
void require_preset_fields(std::string_view name, const std::vector<std::string>& available);
/// The same check against what loaded incidents offer (see available_fields).
void require_preset_fields(std::string_view name, const Incidents& incidents);

/// The incidents whose category is one of the preset's values (dictionary and CRS kept). Throws
/// InvalidInput when the preset's fields are missing or none of its values occurs in the data's
/// category dictionary (a preset for another schema, most likely).
Incidents select_preset(const Incidents& incidents, std::string_view name);

/// Multiplicative weights per category value, e.g. a crime-harm index.
struct SeverityWeights {
    std::vector<std::string> categories; ///< in file order, unique
    std::vector<double> weights;         ///< finite and >= 0, parallel to categories
    std::string source;                  ///< path read, for messages

    /// The weight of `category`, if listed.
    [[nodiscard]] std::optional<double> find(std::string_view category) const;
};

/// Reads a CSV table with a header whose first two columns are `category,weight` (further columns,
/// e.g. a note or a source, are ignored). Blank lines and lines starting with '#' are skipped;
/// fields may be double-quoted (RFC 4180). Throws IoError when the file cannot be read and
/// InvalidInput naming the line for a bad header, a missing or unparsable weight, a negative or
/// non-finite weight, an empty category, a duplicate category, or a table without rows.
SeverityWeights read_severity_weights(const std::string& path);

struct SeverityOptions {
    /// Weight factor for incidents whose category is not in the table or who have no category;
    /// empty: such incidents are an InvalidInput error naming the categories.
    std::optional<double> default_weight;

    /// Throws InvalidInput when default_weight is negative or not finite.
    void validate() const;
};

/// What apply_severity_weights did.
struct SeverityReport {
    std::vector<std::string> unweighted_categories; ///< categories of the data with no table entry
    std::size_t unweighted_incidents = 0;           ///< incidents given the default (incl. no category)
    std::size_t uncategorised_incidents = 0;        ///< incidents without a category
    std::vector<std::string> unused_table_entries;  ///< table categories absent from the data
};

/// Multiplies each incident's weight by its category's weight (default_weight for the others).
/// Throws InvalidInput, leaving `incidents` unchanged, when an incident has no table entry and no
/// default weight is given.
SeverityReport apply_severity_weights(Incidents& incidents, const SeverityWeights& weights,
                                      const SeverityOptions& options = {});

} // namespace streetsafe
