// Offence-group presets and severity weights: lookups, the honest failure of the London definition,
// the weight-table parser's errors, and the St. Louis and police.uk presets on the real files.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "streetsafe/error.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/presets.hpp"
#include "support.hpp"

using namespace streetsafe;
using streetsafe::test::project_file;
using streetsafe::test::scratch_dir;
using streetsafe::test::shared_data;

namespace {

/// Incidents with the given category codes (-1 = none) and weights, on a line in EPSG:27700.
Incidents make_incidents(std::vector<std::string> dictionary, std::vector<std::int32_t> codes,
                         std::vector<double> weights = {}) {
    Incidents inc;
    const std::size_t n = codes.size();
    for (std::size_t i = 0; i < n; ++i) {
        inc.x.push_back(530000.0 + 10.0 * double(i));
        inc.y.push_back(180000.0);
        inc.time.push_back(no_time);
        inc.time_end.push_back(no_time);
        inc.precision.push_back(TimePrecision::none);
        inc.source_row.push_back(static_cast<std::int64_t>(i + 1));
    }
    inc.category = std::move(codes);
    inc.weight = weights.empty() ? std::vector<double>(n, 1.0) : std::move(weights);
    inc.categories = std::move(dictionary);
    inc.validate();
    return inc;
}

/// The message of the InvalidInput that `f` throws; fails the test when it throws nothing.
template <class F>
std::string invalid_input_message(F&& f) {
    try {
        f();
    } catch (const InvalidInput& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected InvalidInput";
    return {};
}

std::string write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::map<std::string, int> counts_by_category(const Incidents& inc) {
    std::map<std::string, int> counts;
    for (const auto c : inc.category) ++counts[c >= 0 ? inc.categories.at(static_cast<std::size_t>(c)) : ""];
    return counts;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Category presets

TEST(Presets, ListingAndLookup) {
    const auto names = preset_names();
    EXPECT_EQ(names, (std::vector<std::string>{"police.uk:serious-violence", "slmpd:serious-violence",
                                               "london:serious-violence"}));
    EXPECT_EQ(presets().size(), names.size());
    EXPECT_EQ(preset_categories("police.uk:serious-violence"),
              (std::vector<std::string>{"Violence and sexual offences", "Robbery", "Possession of weapons"}));
    EXPECT_EQ(preset_categories("slmpd:serious-violence"),
              (std::vector<std::string>{"Criminal Homicide", "Forcible Rape", "Robbery", "Aggravated Assault",
                                        "Other assaults", "Weapons", "Sex Offenses"}));
    EXPECT_EQ(preset("slmpd:serious-violence").column, "ucr_category");
    EXPECT_EQ(preset("slmpd:serious-violence").schema, "slmpd");
    EXPECT_EQ(preset("police.uk:serious-violence").column, "Crime type");
    EXPECT_EQ(preset("police.uk:serious-violence").schema, "police.uk");
    for (const auto& p : presets()) EXPECT_FALSE(p.description.empty()) << p.name;
}

TEST(Presets, UnknownNameListsTheKnownOnes) {
    const std::string msg = invalid_input_message([] { preset_categories("police.uk:serious_violence"); });
    EXPECT_TRUE(contains(msg, "unknown preset 'police.uk:serious_violence'")) << msg;
    for (const auto& name : preset_names()) EXPECT_TRUE(contains(msg, name)) << msg;
    EXPECT_THROW(preset(""), InvalidInput);
    EXPECT_THROW(require_preset_fields("nope", std::vector<std::string>{"offence_category"}), InvalidInput);
}

TEST(Presets, LondonDefinitionIsARequirementNotACategoryList) {
    const Preset& london = preset("london:serious-violence");
    EXPECT_FALSE(london.is_category_preset());
    std::vector<std::string> fields;
    for (const auto& f : london.required_fields) fields.push_back(f.name);
    EXPECT_EQ(fields, (std::vector<std::string>{"offence_code", "victim_age", "domestic_abuse_flag"}));

    const std::string msg = invalid_input_message([] { preset_categories("london:serious-violence"); });
    EXPECT_TRUE(contains(msg, "cannot be expressed as a list of categories")) << msg;
    for (const auto& f : fields) EXPECT_TRUE(contains(msg, f)) << msg;
    EXPECT_TRUE(contains(msg, "police.uk:serious-violence")) << msg; // points to what can be used
}

TEST(Presets, RequireFieldsNamesExactlyTheMissingOnes) {
    // Data with victim age but no domestic-abuse flag: only the flag and the offence code are named.
    const std::string msg = invalid_input_message([] {
        require_preset_fields("london:serious-violence", std::vector<std::string>{"offence_category", "victim_age"});
    });
    EXPECT_TRUE(contains(msg, "domestic_abuse_flag")) << msg;
    EXPECT_TRUE(contains(msg, "offence_code")) << msg;
    EXPECT_FALSE(contains(msg, "victim_age (")) << msg; // present, so not listed as missing
    EXPECT_TRUE(contains(msg, "Fields available: offence_category, victim_age")) << msg;
    // A source that had all three would pass the check.
    EXPECT_NO_THROW(require_preset_fields("london:serious-violence",
                                          std::vector<std::string>{"offence_code", "victim_age",
                                                                   "domestic_abuse_flag"}));
}

TEST(Presets, RequireFieldsOnLoadedIncidents) {
    const Incidents with = make_incidents({"Robbery"}, {0, 0});
    EXPECT_EQ(available_fields(with), std::vector<std::string>{"offence_category"});
    EXPECT_NO_THROW(require_preset_fields("police.uk:serious-violence", with));
    // Incidents never carry victim age or a domestic-abuse flag: the London definition always fails.
    const std::string london = invalid_input_message([&] { require_preset_fields("london:serious-violence", with); });
    EXPECT_TRUE(contains(london, "victim_age")) << london;
    EXPECT_TRUE(contains(london, "domestic_abuse_flag")) << london;

    const Incidents without = make_incidents({}, {-1, -1});
    EXPECT_TRUE(available_fields(without).empty());
    const std::string msg =
        invalid_input_message([&] { require_preset_fields("slmpd:serious-violence", without); });
    EXPECT_TRUE(contains(msg, "offence_category")) << msg;
    EXPECT_TRUE(contains(msg, "Fields available: none")) << msg;
}

TEST(Presets, SelectKeepsThePresetCategoriesInOrder) {
    const Incidents inc = make_incidents({"Robbery", "Burglary", "Possession of weapons", "Vehicle crime"},
                                         {0, 1, 2, -1, 3, 0, 2}, {1, 2, 3, 4, 5, 6, 7});
    const Incidents sel = select_preset(inc, "police.uk:serious-violence");
    ASSERT_EQ(sel.size(), 4u);
    EXPECT_EQ(sel.weight, (std::vector<double>{1, 3, 6, 7}));
    EXPECT_EQ(sel.source_row, (std::vector<std::int64_t>{1, 3, 6, 7}));
    EXPECT_EQ(sel.categories, inc.categories); // dictionary kept

    // "Robbery" is spelt the same in both schemas, so the St. Louis preset keeps those rows here.
    EXPECT_EQ(select_preset(inc, "slmpd:serious-violence").source_row, (std::vector<std::int64_t>{1, 6}));
    // On police.uk categories without robbery it matches nothing: an error, not an empty surface.
    const Incidents other = make_incidents({"Burglary", "Possession of weapons"}, {0, 1});
    const std::string msg = invalid_input_message([&] { select_preset(other, "slmpd:serious-violence"); });
    EXPECT_TRUE(contains(msg, "none of the categories of preset 'slmpd:serious-violence'")) << msg;
    EXPECT_TRUE(contains(msg, "'Burglary'")) << msg; // lists what was found
    EXPECT_THROW(select_preset(inc, "london:serious-violence"), InvalidInput);
}

// ---------------------------------------------------------------------------------------------
// Severity weight tables

TEST(SeverityWeights, ReadsQuotedFieldsCommentsBomAndCrlf) {
    const auto dir = scratch_dir("severity_ok");
    const std::string path = write_file(dir / "w.csv",
                                        "\xEF\xBB\xBF# a comment before the header\r\n"
                                        "Category , Weight ,note\r\n"
                                        "\r\n"
                                        "Robbery,2.5,from somewhere\r\n"
                                        "\"Violence, and \"\"sexual\"\" offences\",+3,\r\n"
                                        "  # indented comment\r\n"
                                        "Possession of weapons, 0 \r\n"
                                        "Drugs,1e-1\r\n");
    const SeverityWeights w = read_severity_weights(path);
    EXPECT_EQ(w.categories, (std::vector<std::string>{"Robbery", "Violence, and \"sexual\" offences",
                                                      "Possession of weapons", "Drugs"}));
    EXPECT_EQ(w.weights, (std::vector<double>{2.5, 3.0, 0.0, 0.1}));
    EXPECT_EQ(w.source, path);
    EXPECT_EQ(w.find("Robbery"), 2.5);
    EXPECT_FALSE(w.find("robbery").has_value()); // exact match, as the category filter
}

TEST(SeverityWeights, ErrorsNameTheLineAndTheProblem) {
    const auto dir = scratch_dir("severity_errors");
    struct Case {
        const char* name;
        std::string text;
        std::vector<std::string> expected; // substrings of the message
    };
    const std::vector<Case> cases{
        {"bad_number", "category,weight\nRobbery,2\nWeapons,two\n", {"line 3", "weight 'two'", "'Weapons'", "not a number"}},
        {"trailing_text", "category,weight\nRobbery,2kg\n", {"line 2", "'2kg'", "not a number"}},
        {"empty_weight", "category,weight\nRobbery,\n", {"line 2", "weight ''"}},
        {"missing_weight", "category,weight\n# c\nRobbery\n", {"line 3", "expected 'category,weight'"}},
        {"negative", "category,weight\nRobbery,-1\n", {"line 2", "must be finite and >= 0"}},
        {"nan", "category,weight\nRobbery,nan\n", {"line 2", "must be finite and >= 0"}},
        {"infinite", "category,weight\nRobbery,inf\n", {"line 2", "must be finite and >= 0"}},
        {"duplicate", "category,weight\nRobbery,1\nWeapons,2\n\"Robbery\",3\n",
         {"line 4", "duplicate category 'Robbery'", "first given on line 2"}},
        {"empty_category", "category,weight\n,1\n", {"line 2", "empty category"}},
        {"bad_header", "name,value\nRobbery,1\n", {"line 1", "expected the header 'category,weight'"}},
        {"no_header", "Robbery,1\n", {"line 1", "expected the header"}},
        {"bad_quote", "category,weight\n\"Robbery,1\n", {"line 2", "malformed quoting"}},
        {"empty", "", {"empty; expected the header"}},
        {"no_rows", "# only\ncategory,weight\n\n", {"no weights after the header"}},
    };
    for (const auto& c : cases) {
        const std::string path = write_file(dir / (std::string(c.name) + ".csv"), c.text);
        const std::string msg = invalid_input_message([&] { read_severity_weights(path); });
        EXPECT_TRUE(contains(msg, path)) << c.name << ": " << msg;
        for (const auto& e : c.expected) EXPECT_TRUE(contains(msg, e)) << c.name << ": " << msg;
    }
    EXPECT_THROW(read_severity_weights((dir / "does_not_exist.csv").string()), IoError);
}

TEST(SeverityWeights, ApplyMultipliesExistingWeights) {
    Incidents inc = make_incidents({"Robbery", "Burglary", "Weapons"}, {0, 2, 0, 2, 0}, {1, 1, 2, 0.5, 4});
    SeverityWeights w{.categories = {"Robbery", "Weapons", "Homicide"}, .weights = {3, 10, 100}, .source = "t"};
    const SeverityReport r = apply_severity_weights(inc, w);
    EXPECT_EQ(inc.weight, (std::vector<double>{3, 10, 6, 5, 12}));
    EXPECT_TRUE(r.unweighted_categories.empty()); // "Burglary" is in the dictionary but on no incident
    EXPECT_EQ(r.unweighted_incidents, 0u);
    EXPECT_EQ(r.unused_table_entries, std::vector<std::string>{"Homicide"});
    EXPECT_DOUBLE_EQ(inc.total_weight(), 36.0);
}

TEST(SeverityWeights, UnknownCategoryIsAnErrorWithoutADefault) {
    Incidents inc = make_incidents({"Robbery", "Burglary", "Arson"}, {0, 1, 2, 1, -1});
    const auto before = inc.weight;
    const SeverityWeights w{.categories = {"Robbery"}, .weights = {3}, .source = "table.csv"};
    const std::string msg = invalid_input_message([&] { apply_severity_weights(inc, w); });
    EXPECT_TRUE(contains(msg, "'Burglary', 'Arson'")) << msg;
    EXPECT_TRUE(contains(msg, "table.csv")) << msg;
    EXPECT_TRUE(contains(msg, "1 incidents without a category")) << msg;
    EXPECT_TRUE(contains(msg, "(4 incidents)")) << msg;
    EXPECT_EQ(inc.weight, before); // untouched on error

    const SeverityReport r = apply_severity_weights(inc, w, {.default_weight = 0.5});
    EXPECT_EQ(inc.weight, (std::vector<double>{3, 0.5, 0.5, 0.5, 0.5}));
    EXPECT_EQ(r.unweighted_categories, (std::vector<std::string>{"Burglary", "Arson"}));
    EXPECT_EQ(r.unweighted_incidents, 4u);
    EXPECT_EQ(r.uncategorised_incidents, 1u);
    EXPECT_TRUE(r.unused_table_entries.empty());

    EXPECT_THROW(apply_severity_weights(inc, w, {.default_weight = -1.0}), InvalidInput);
    EXPECT_THROW(apply_severity_weights(inc, w, {.default_weight = std::numeric_limits<double>::infinity()}),
                 InvalidInput);
}

TEST(SeverityWeights, ShippedIllustrativeTablesCoverTheirPresets) {
    for (const auto& [file, name] : std::vector<std::pair<std::string, std::string>>{
             {"data/presets/illustrative_severity_policeuk.csv", "police.uk:serious-violence"},
             {"data/presets/illustrative_severity_slmpd.csv", "slmpd:serious-violence"}}) {
        const SeverityWeights w = read_severity_weights(project_file(file));
        auto table = w.categories;
        auto wanted = preset_categories(name);
        std::sort(table.begin(), table.end());
        std::sort(wanted.begin(), wanted.end());
        EXPECT_EQ(table, wanted) << file;
        // The file says loudly what it is.
        std::ifstream in(project_file(file));
        std::string first;
        std::getline(in, first);
        EXPECT_TRUE(contains(first, "ILLUSTRATIVE EXAMPLE ONLY")) << file;
    }
}

// ---------------------------------------------------------------------------------------------
// Real data

TEST(PresetsRealData, StLouisSeriousViolenceCountsMatchTheReadme) {
    const std::string path = shared_data("stlouis/slmpd_crimes_2017_2018.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    ReadOptions opt;
    opt.categories = preset_categories("slmpd:serious-violence");
    LoadReport report;
    const Incidents inc = read_incidents(path, opt, &report);
    EXPECT_EQ(report.schema, "slmpd");
    EXPECT_EQ(report.rows_read, 90722);
    // README: geocoded rows per category; rape and sex offences are published without coordinates.
    const std::map<std::string, int> expected{{"Aggravated Assault", 5848}, {"Other assaults", 5728},
                                              {"Robbery", 3363},            {"Weapons", 1671},
                                              {"Criminal Homicide", 355}};
    EXPECT_EQ(counts_by_category(inc), expected) << report.summary();
    EXPECT_EQ(inc.category_code("Forcible Rape"), -1);
    EXPECT_EQ(inc.category_code("Sex Offenses"), -1);
    EXPECT_EQ(report.rows_kept, 16965);
    // Every one of the 90,722 rows is either kept or skipped with a reason.
    EXPECT_EQ(report.rows_kept + static_cast<std::int64_t>(report.skipped.size()), report.rows_read);

    // The same selection after loading everything.
    const Incidents all = read_incidents(path);
    const Incidents sel = select_preset(all, "slmpd:serious-violence");
    EXPECT_EQ(counts_by_category(sel), expected);

    // Illustrative weights: total = Σ count × weight.
    Incidents weighted = sel;
    const SeverityReport r =
        apply_severity_weights(weighted, read_severity_weights(project_file("data/presets/illustrative_severity_slmpd.csv")));
    EXPECT_TRUE(r.unweighted_categories.empty());
    EXPECT_EQ(r.unused_table_entries, (std::vector<std::string>{"Forcible Rape", "Sex Offenses"}));
    EXPECT_DOUBLE_EQ(weighted.total_weight(), 355 * 10.0 + 3363 * 3.0 + 5848 * 3.0 + 1671 * 2.0 + 5728 * 1.0);
}

TEST(PresetsRealData, PoliceUkSeriousViolenceAndTheLondonDefinition) {
    const std::string path = shared_data("london/police_uk_street_crime_2017_4boroughs.csv.gz");
    STREETSAFE_REQUIRE_SHARED(path);
    const Incidents all = read_incidents(path);
    const Incidents sel = select_preset(all, "police.uk:serious-violence");
    // README: Violence and sexual offences 23,199, Robbery 2,317, Possession of weapons 614.
    const std::map<std::string, int> expected{
        {"Violence and sexual offences", 23199}, {"Robbery", 2317}, {"Possession of weapons", 614}};
    EXPECT_EQ(counts_by_category(sel), expected);
    // The London definition cannot be applied to street-level data, and says why.
    const std::string msg = invalid_input_message([&] { select_preset(all, "london:serious-violence"); });
    EXPECT_TRUE(contains(msg, "victim_age")) << msg;
    EXPECT_TRUE(contains(msg, "domestic_abuse_flag")) << msg;
    EXPECT_TRUE(contains(msg, "offence_code")) << msg;
}
