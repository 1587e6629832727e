#include "streetsafe/presets.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <unordered_map>

#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += separator;
        out += items[i];
    }
    return out;
}

std::string quoted_list(const std::vector<std::string>& items) {
    std::vector<std::string> q;
    q.reserve(items.size());
    for (const auto& s : items) q.push_back("'" + s + "'");
    return join(q, ", ");
}

const RequiredField offence_category{
    "offence_category", "the source's offence category of each incident (police.uk 'Crime type', SLMPD "
                        "'ucr_category'), loaded as Incidents::category"};

std::vector<Preset> make_presets() {
    std::vector<Preset> p;
    p.push_back(Preset{
        .name = "police.uk:serious-violence",
        .schema = "police.uk",
        .column = "Crime type",
        .categories = {"Violence and sexual offences", "Robbery", "Possession of weapons"},
        .required_fields = {offence_category},
        .description =
            "police.uk street-level crime types for violence: 'Violence and sexual offences' (all violence "
            "against the person, from homicide to common assault, harassment and stalking, together with "
            "all sexual offences; police.uk does not separate them), 'Robbery' and 'Possession of "
            "weapons'. A broad proxy: street-level data carry no offence code, victim age or "
            "domestic-abuse flag."});
    p.push_back(Preset{
        .name = "slmpd:serious-violence",
        .schema = "slmpd",
        .column = "ucr_category",
        .categories = {"Criminal Homicide", "Forcible Rape", "Robbery", "Aggravated Assault", "Other assaults",
                       "Weapons", "Sex Offenses"},
        .required_fields = {offence_category},
        .description =
            "St. Louis (SLMPD) FBI UCR categories of violence: homicide (01), forcible rape (02), robbery (03), "
            "aggravated assault (04), other (simple) assaults (09), weapons (15) and sex offenses (17). SLMPD "
            "publishes rape and sex-offense rows without coordinates, so they never reach a density surface."});
    p.push_back(Preset{
        .name = "london:serious-violence",
        .schema = "",
        .column = "",
        .categories = {},
        .required_fields =
            {{"offence_code", "an offence classification finer than police.uk's 'Violence and sexual offences' "
                              "(e.g. the Home Office offence code), to tell homicide, GBH, ABH, rape, assault "
                              "by penetration, sexual assault, personal robbery and threats to kill apart"},
             {"victim_age", "the victim's (and for 'affecting' also the suspect's) age, to select violence "
                            "and exploitation affecting young people under 25"},
             {"domestic_abuse_flag", "whether the incident is domestic abuse as defined in the Domestic "
                                     "Abuse Act 2021"}},
        .description =
            "The London definition of serious violence for the Serious Violence Duty: any violence and "
            "exploitation affecting young people under 25, domestic abuse and sexual violence (homicide, "
            "GBH, ABH, rape, assault by penetration, sexual assault, personal robbery, threats to kill and "
            "violence against property in the commission of these). It needs victim age, a domestic-abuse "
            "flag and offence codes, which police.uk street-level data do not carry, so it is a documented "
            "requirement, not a category list. With data that carry them, filter the source before loading "
            "(e.g. ogr2ogr -where) and use police.uk:serious-violence only as a labelled proxy."});
    return p;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

/// Splits one CSV line (RFC 4180 quoting, no embedded line breaks); nullopt on a malformed quote.
std::optional<std::vector<std::string>> split_csv(std::string_view line) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false, was_quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < line.size() && line[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
        } else if (c == '"') {
            if (!trim(field).empty()) return std::nullopt; // a quote in the middle of a field
            field.clear();
            quoted = was_quoted = true;
        } else if (c == ',') {
            fields.push_back(was_quoted ? field : std::string(trim(field)));
            field.clear();
            was_quoted = false;
        } else if (was_quoted) {
            if (c != ' ' && c != '\t' && c != '\r') return std::nullopt; // text after a closing quote
        } else {
            field += c;
        }
    }
    if (quoted) return std::nullopt;
    fields.push_back(was_quoted ? field : std::string(trim(field)));
    return fields;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

} // namespace

const std::vector<Preset>& presets() {
    static const std::vector<Preset> all = make_presets();
    return all;
}

std::vector<std::string> preset_names() {
    std::vector<std::string> names;
    for (const auto& p : presets()) names.push_back(p.name);
    return names;
}

const Preset& preset(std::string_view name) {
    for (const auto& p : presets())
        if (p.name == name) return p;
    throw InvalidInput("unknown preset '" + std::string(name) + "'; known presets: " + join(preset_names(), ", "));
}

std::vector<std::string> preset_categories(std::string_view name) {
    const Preset& p = preset(name);
    if (!p.is_category_preset()) {
        std::vector<std::string> fields;
        for (const auto& f : p.required_fields) fields.push_back(f.name + " (" + f.description + ")");
        std::vector<std::string> category_presets;
        for (const auto& q : presets())
            if (q.is_category_preset()) category_presets.push_back(q.name);
        throw InvalidInput("preset '" + p.name + "' cannot be expressed as a list of categories: it needs " +
                           join(fields, "; ") + ". Category presets: " + join(category_presets, ", "));
    }
    return p.categories;
}

std::vector<std::string> available_fields(const Incidents& incidents) {
    std::vector<std::string> fields;
    if (std::any_of(incidents.category.begin(), incidents.category.end(), [](std::int32_t c) { return c >= 0; }))
        fields.push_back("offence_category");
    if (std::any_of(incidents.precision.begin(), incidents.precision.end(),
                    [](TimePrecision t) { return t != TimePrecision::none; }))
        fields.push_back("time");
    return fields;
}

void require_preset_fields(std::string_view name, const std::vector<std::string>& available) {
    const Preset& p = preset(name);
    std::vector<std::string> missing;
    for (const auto& f : p.required_fields)
        if (std::find(available.begin(), available.end(), f.name) == available.end())
            missing.push_back(f.name + " (" + f.description + ")");
    if (missing.empty()) return;
    throw InvalidInput("preset '" + p.name + "' needs fields the data lack: " + join(missing, "; ") +
                       ". Fields available: " + (available.empty() ? std::string("none") : join(available, ", ")));
}

void require_preset_fields(std::string_view name, const Incidents& incidents) {
    require_preset_fields(name, available_fields(incidents));
}

Incidents select_preset(const Incidents& incidents, std::string_view name) {
    const Preset& p = preset(name);
    require_preset_fields(name, incidents);
    const std::vector<std::string> values = preset_categories(name);
    std::vector<bool> wanted_code(incidents.categories.size(), false);
    bool any = false;
    for (std::size_t c = 0; c < incidents.categories.size(); ++c) {
        if (std::find(values.begin(), values.end(), incidents.categories[c]) != values.end()) {
            wanted_code[c] = true;
            any = true;
        }
    }
    if (!any)
        throw InvalidInput("none of the categories of preset '" + p.name + "' (" + quoted_list(values) +
                           ", from the " + p.schema + " column '" + p.column +
                           "') occurs in the data; categories found: " + quoted_list(incidents.categories));
    std::vector<bool> keep(incidents.size(), false);
    for (std::size_t i = 0; i < incidents.size(); ++i) {
        const std::int32_t c = incidents.category[i];
        keep[i] = c >= 0 && wanted_code[static_cast<std::size_t>(c)];
    }
    return select(incidents, keep);
}

std::optional<double> SeverityWeights::find(std::string_view category) const {
    for (std::size_t i = 0; i < categories.size(); ++i)
        if (categories[i] == category) return weights[i];
    return std::nullopt;
}

SeverityWeights read_severity_weights(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError("cannot open severity weights '" + path + "'");
    SeverityWeights out;
    out.source = path;
    std::unordered_map<std::string, std::size_t> line_of; // category -> line first given
    std::string line;
    std::size_t line_no = 0;
    bool header_seen = false;
    auto where = [&path, &line_no] { return "'" + path + "' line " + std::to_string(line_no) + ": "; };
    while (std::getline(in, line)) {
        ++line_no;
        std::string_view view(line);
        if (line_no == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3); // UTF-8 BOM
        if (trim(view).empty() || trim(view).front() == '#') continue;
        const auto fields = split_csv(view);
        if (!fields) throw InvalidInput(where() + "malformed quoting in '" + std::string(trim(view)) + "'");
        if (!header_seen) {
            if (fields->size() < 2 || lower((*fields)[0]) != "category" || lower((*fields)[1]) != "weight")
                throw InvalidInput(where() + "expected the header 'category,weight', found '" +
                                   std::string(trim(view)) + "'");
            header_seen = true;
            continue;
        }
        if (fields->size() < 2)
            throw InvalidInput(where() + "expected 'category,weight', found '" + std::string(trim(view)) + "'");
        const std::string& category = (*fields)[0];
        const std::string text(trim((*fields)[1]));
        if (category.empty()) throw InvalidInput(where() + "empty category");
        std::string_view number(text);
        if (!number.empty() && number.front() == '+') number.remove_prefix(1); // from_chars rejects '+'
        double w = 0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), w);
        if (number.empty() || ec != std::errc() || end != number.data() + number.size())
            throw InvalidInput(where() + "weight '" + text + "' of category '" + category + "' is not a number");
        if (!std::isfinite(w) || w < 0)
            throw InvalidInput(where() + "weight " + text + " of category '" + category +
                               "' must be finite and >= 0");
        const auto [it, inserted] = line_of.try_emplace(category, line_no);
        if (!inserted)
            throw InvalidInput(where() + "duplicate category '" + category + "' (first given on line " +
                               std::to_string(it->second) + ")");
        out.categories.push_back(category);
        out.weights.push_back(w);
    }
    if (in.bad()) throw IoError("error reading severity weights '" + path + "'");
    if (!header_seen) throw InvalidInput("'" + path + "': empty; expected the header 'category,weight' and rows");
    if (out.categories.empty()) throw InvalidInput("'" + path + "': no weights after the header");
    return out;
}

void SeverityOptions::validate() const {
    if (default_weight && (!std::isfinite(*default_weight) || *default_weight < 0))
        throw InvalidInput("SeverityOptions.default_weight must be finite and >= 0, got " +
                           std::to_string(*default_weight));
}

SeverityReport apply_severity_weights(Incidents& incidents, const SeverityWeights& weights,
                                      const SeverityOptions& options) {
    options.validate();
    if (weights.categories.size() != weights.weights.size())
        throw InvalidInput("SeverityWeights: " + std::to_string(weights.categories.size()) + " categories but " +
                           std::to_string(weights.weights.size()) + " weights");
    incidents.validate();
    const std::size_t ncat = incidents.categories.size();

    // Factor per dictionary code; nullopt where the table has no entry.
    std::vector<std::optional<double>> factor(ncat);
    for (std::size_t c = 0; c < ncat; ++c) factor[c] = weights.find(incidents.categories[c]);

    SeverityReport report;
    std::vector<std::size_t> per_code(ncat, 0);
    for (const std::int32_t c : incidents.category) {
        if (c < 0) {
            ++report.uncategorised_incidents;
            ++report.unweighted_incidents;
        } else {
            ++per_code[static_cast<std::size_t>(c)];
            if (!factor[static_cast<std::size_t>(c)]) ++report.unweighted_incidents;
        }
    }
    for (std::size_t c = 0; c < ncat; ++c)
        if (per_code[c] > 0 && !factor[c]) report.unweighted_categories.push_back(incidents.categories[c]);
    for (const auto& name : weights.categories) {
        const auto code = incidents.category_code(name);
        if (code < 0 || per_code[static_cast<std::size_t>(code)] == 0) report.unused_table_entries.push_back(name);
    }

    if (report.unweighted_incidents > 0 && !options.default_weight) {
        std::string what;
        if (!report.unweighted_categories.empty())
            what = "categories without a weight in '" + weights.source + "': " + quoted_list(report.unweighted_categories);
        if (report.uncategorised_incidents > 0)
            what += (what.empty() ? "" : "; ") + std::to_string(report.uncategorised_incidents) +
                    " incidents without a category";
        throw InvalidInput(what + " (" + std::to_string(report.unweighted_incidents) +
                           " incidents); add them to the table or give a default weight");
    }

    const double fallback = options.default_weight.value_or(1.0);
    for (std::size_t i = 0; i < incidents.size(); ++i) {
        const std::int32_t c = incidents.category[i];
        const std::optional<double> f = c >= 0 ? factor[static_cast<std::size_t>(c)] : std::nullopt;
        incidents.weight[i] *= f.value_or(fallback);
    }
    return report;
}

} // namespace streetsafe
