// Category presets (named offence groupings such as "police.uk:serious-violence") and severity
// weights (a crime-harm index applied to incidents' weights).

#include <memory>
#include <optional>
#include <string>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/presets.hpp"

namespace streetsafe::python {

namespace {

py::dict preset_dict(const Preset& p) {
    py::dict d;
    d["name"] = p.name;
    d["schema"] = p.schema;
    d["column"] = p.column;
    d["categories"] = p.categories;
    py::list required;
    for (const auto& f : p.required_fields)
        required.append(py::make_tuple(f.name, f.description));
    d["required_fields"] = required;
    d["description"] = p.description;
    return d;
}

} // namespace

void bind_presets(py::module_& m) {
    m.def("preset_names", &preset_names, "The presets' names, in a fixed order.");
    m.def(
        "preset", [](const std::string& name) { return preset_dict(preset(name)); }, py::arg("name"));
    m.def(
        "preset_categories", [](const std::string& name) { return preset_categories(name); }, py::arg("name"));
    m.def(
        "select_preset",
        [](const Incidents& incidents, const std::string& name) {
            auto selected = std::make_shared<Incidents>();
            py::gil_scoped_release release;
            *selected = select_preset(incidents, name);
            return selected;
        },
        py::arg("incidents"), py::arg("name"));

    py::class_<SeverityWeights, std::shared_ptr<SeverityWeights>>(m, "SeverityWeights",
                                                                  "Weights per category value.")
        .def_readonly("categories", &SeverityWeights::categories)
        .def_readonly("weights", &SeverityWeights::weights)
        .def_readonly("source", &SeverityWeights::source)
        .def("__len__", [](const SeverityWeights& w) { return w.categories.size(); })
        .def(
            "find", [](const SeverityWeights& w, const std::string& c) { return w.find(c); }, py::arg("category"));

    m.def(
        "read_severity_weights",
        [](const std::string& path) { return std::make_shared<SeverityWeights>(read_severity_weights(path)); },
        py::arg("path"));
    m.def(
        "apply_severity_weights",
        [](const Incidents& incidents, const SeverityWeights& weights, std::optional<double> default_weight) {
            // A weighted copy: numpy views of the original's weights stay valid.
            SeverityOptions options;
            options.default_weight = default_weight;
            options.validate();
            auto weighted = std::make_shared<Incidents>();
            SeverityReport report;
            {
                py::gil_scoped_release release;
                *weighted = incidents;
                report = apply_severity_weights(*weighted, weights, options);
            }
            py::dict r;
            r["unweighted_categories"] = report.unweighted_categories;
            r["unweighted_incidents"] = report.unweighted_incidents;
            r["uncategorised_incidents"] = report.uncategorised_incidents;
            r["unused_table_entries"] = report.unused_table_entries;
            return py::make_tuple(weighted, r);
        },
        py::arg("incidents"), py::arg("weights"), py::arg("default_weight"),
        "(weighted copy of the incidents, report dict).");
}

} // namespace streetsafe::python
