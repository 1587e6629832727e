// Incidents (struct of arrays, exposed to numpy without copies), the LoadReport of a read, and the
// loaders: read_incidents (any OGR source) and incidents_from_arrays.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/incidents.hpp"

namespace streetsafe::python {

namespace {

/// Each skip reason with its Python name (the C++ enumerator's): to_string() gives prose for
/// reports ("coordinate at 0,0 (not geocoded)"), code wants identifiers ("null_island").
struct NamedSkipReason {
    SkipReason reason;
    const char* name;
};
constexpr std::array<NamedSkipReason, 11> skip_reasons{{
    {SkipReason::missing_coordinate, "missing_coordinate"},
    {SkipReason::unparsable_coordinate, "unparsable_coordinate"},
    {SkipReason::null_island, "null_island"},
    {SkipReason::outside_crs_area, "outside_crs_area"},
    {SkipReason::transform_failed, "transform_failed"},
    {SkipReason::missing_time, "missing_time"},
    {SkipReason::unparsable_time, "unparsable_time"},
    {SkipReason::non_finite_weight, "non_finite_weight"},
    {SkipReason::outside_category_filter, "outside_category_filter"},
    {SkipReason::outside_time_filter, "outside_time_filter"},
    {SkipReason::missing_geometry, "missing_geometry"},
}};

const char* skip_reason_name(SkipReason reason) {
    for (const auto& r : skip_reasons)
        if (r.reason == reason) return r.name;
    return "unknown";
}

/// A reason from its name or its report text.
SkipReason parse_skip_reason(const std::string& name) {
    std::string names;
    for (const auto& r : skip_reasons) {
        if (name == r.name || name == to_string(r.reason)) return r.reason;
        names += (names.empty() ? "" : ", ") + std::string(r.name);
    }
    throw InvalidInput("unknown skip reason '" + name + "'; expected one of " + names);
}

ColumnMapping column_mapping(const std::map<std::string, std::string>& columns) {
    ColumnMapping mapping;
    const std::map<std::string, std::string ColumnMapping::*> roles{{"x", &ColumnMapping::x},
                                                                    {"y", &ColumnMapping::y},
                                                                    {"lon", &ColumnMapping::lon},
                                                                    {"lat", &ColumnMapping::lat},
                                                                    {"time", &ColumnMapping::time},
                                                                    {"time_end", &ColumnMapping::time_end},
                                                                    {"category", &ColumnMapping::category},
                                                                    {"weight", &ColumnMapping::weight},
                                                                    {"id", &ColumnMapping::id}};
    for (const auto& [role, column] : columns) {
        const auto it = roles.find(role);
        if (it == roles.end())
            throw InvalidInput("unknown column role '" + role +
                               "'; expected x, y, lon, lat, time, time_end, category, weight or id");
        mapping.*(it->second) = column;
    }
    return mapping;
}

template <class T> using InArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

/// A span over a 1-D input array checked against the length of x (empty when absent).
template <class T>
std::span<const T> optional_span(const std::optional<InArray<T>>& a, const char* name, std::size_t n) {
    if (!a) return {};
    if (a->ndim() != 1) throw InvalidInput(std::string(name) + " must be a 1-D array");
    if (static_cast<std::size_t>(a->size()) != n)
        throw InvalidInput(std::string(name) + " has " + std::to_string(a->size()) + " values, x has " +
                           std::to_string(n));
    return {a->data(), static_cast<std::size_t>(a->size())};
}

py::dict skipped_columns(const LoadReport& report) {
    const std::size_t n = report.skipped.size();
    py::array_t<std::int64_t> rows(static_cast<py::ssize_t>(n));
    py::list reasons, details;
    auto r = rows.mutable_unchecked<1>();
    for (std::size_t i = 0; i < n; ++i) {
        const SkippedRow& s = report.skipped[i];
        r(static_cast<py::ssize_t>(i)) = s.row;
        reasons.append(py::str(skip_reason_name(s.reason)));
        details.append(py::str(s.detail));
    }
    const py::module_ np = py::module_::import("numpy");
    py::dict columns;
    columns["row"] = rows;
    columns["reason"] = np.attr("array")(reasons, py::arg("dtype") = "str");
    columns["detail"] = np.attr("array")(details, py::arg("dtype") = "str");
    return columns;
}

void bind_load_report(py::module_& m) {
    py::class_<LoadReport, std::shared_ptr<LoadReport>>(
        m, "LoadReport", "What a loader did: rows read and kept, and every skipped row with its reason.")
        .def_readonly("source", &LoadReport::source, "Path or connection string as given.")
        .def_readonly("layer", &LoadReport::layer, "Layer read.")
        .def_readonly("schema", &LoadReport::schema, "'police.uk', 'slmpd', 'mapped' or 'vector layer'.")
        .def_readonly("row_meaning", &LoadReport::row_meaning, "What the row numbers count.")
        .def_readonly("rows_read", &LoadReport::rows_read)
        .def_readonly("rows_kept", &LoadReport::rows_kept)
        .def_property_readonly(
            "rows_skipped", [](const LoadReport& r) { return static_cast<std::int64_t>(r.skipped.size()); })
        .def_readonly("source_crs", &LoadReport::source_crs, "CRS of the coordinates as read.")
        .def_readonly("working_crs", &LoadReport::working_crs, "CRS of the incidents' x and y.")
        .def_readonly("working_crs_automatic", &LoadReport::working_crs_automatic)
        .def_property_readonly(
            "skipped", &skipped_columns,
            "Skipped rows as a dict of arrays: row (int64), reason (a name of SKIP_REASONS), detail "
            "(str); "
            "pandas.DataFrame(report.skipped) makes a table of it.")
        .def(
            "count",
            [](const LoadReport& r, const std::string& reason) { return r.count(parse_skip_reason(reason)); },
            py::arg("reason"),
            "Number of rows skipped for `reason`: a name of SKIP_REASONS (e.g. 'null_island').")
        .def(
            "counts",
            [](const LoadReport& r) {
                py::dict counts;
                for (const auto& reason : skip_reasons)
                    if (const auto c = r.count(reason.reason); c > 0) counts[reason.name] = c;
                return counts;
            },
            "Skipped rows per reason, for the reasons that occurred.")
        .def("summary", &LoadReport::summary, py::arg("examples_per_reason") = 3,
             "A few lines: counts per reason and the first rows of each.")
        .def("__str__", [](const LoadReport& r) { return r.summary(); })
        .def("__repr__", [](const LoadReport& r) {
            return "<LoadReport " + r.source + ": " + std::to_string(r.rows_read) + " rows read, " +
                   std::to_string(r.rows_kept) + " kept, " + std::to_string(r.skipped.size()) + " skipped>";
        });
    m.attr("SKIP_REASONS") = [] {
        py::list names;
        for (const auto& r : skip_reasons)
            names.append(py::str(r.name));
        return py::tuple(names);
    }();
}

template <class T> py::cpp_function array_property(std::vector<T> Incidents::*member, py::dtype dtype) {
    return py::cpp_function([member, dtype](py::object self) {
        const auto& incidents = self.cast<const Incidents&>();
        return vector_view(incidents.*member, self, dtype);
    });
}

void bind_incidents_class(py::module_& m) {
    const py::dtype datetime64("datetime64[s]");
    py::class_<Incidents, std::shared_ptr<Incidents>>(m, "Incidents",
                                                      "Incidents as a struct of arrays (the C++ value).")
        .def("__len__", &Incidents::size)
        .def_property_readonly("x", array_property(&Incidents::x, py::dtype::of<double>()))
        .def_property_readonly("y", array_property(&Incidents::y, py::dtype::of<double>()))
        .def_property_readonly("time", array_property(&Incidents::time, datetime64))
        .def_property_readonly("time_end", array_property(&Incidents::time_end, datetime64))
        .def_property_readonly("precision",
                               array_property(&Incidents::precision, py::dtype::of<std::uint8_t>()))
        .def_property_readonly("category",
                               array_property(&Incidents::category, py::dtype::of<std::int32_t>()))
        .def_property_readonly("weight", array_property(&Incidents::weight, py::dtype::of<double>()))
        .def_property_readonly("source_row",
                               array_property(&Incidents::source_row, py::dtype::of<std::int64_t>()))
        .def_readonly("categories", &Incidents::categories)
        .def_readonly("ids", &Incidents::ids)
        .def_property_readonly("crs_wkt", [](const Incidents& i) { return i.crs.wkt; })
        .def_property_readonly("crs_name", [](const Incidents& i) { return i.crs.name; })
        .def_property_readonly("crs_authority", [](const Incidents& i) { return i.crs.authority; })
        .def_readonly("time_zone", &Incidents::time_zone)
        .def("total_weight", &Incidents::total_weight)
        .def("category_code", &Incidents::category_code, py::arg("name"))
        .def("_buffer_address", [](const Incidents& i, const std::string& column) {
            if (column == "x") return reinterpret_cast<std::uintptr_t>(i.x.data());
            if (column == "time") return reinterpret_cast<std::uintptr_t>(i.time.data());
            throw InvalidInput("no buffer address for '" + column + "'");
        });
}

} // namespace

void bind_incidents(py::module_& m) {
    bind_load_report(m);
    bind_incidents_class(m);

    m.def(
        "read_incidents",
        [](const std::string& path, const std::map<std::string, std::string>& columns,
           const std::string& layer, const std::string& source_crs, const std::string& working_crs,
           const std::string& time_zone, const std::vector<std::string>& categories,
           std::optional<LocalSeconds> time_from, std::optional<LocalSeconds> time_to, bool strict) {
            ReadOptions options;
            options.columns = column_mapping(columns);
            options.layer = layer;
            options.source_crs = source_crs;
            options.working_crs = working_crs;
            options.time_zone = time_zone;
            options.categories = categories;
            options.time_from = time_from;
            options.time_to = time_to;
            options.strict = strict;
            auto report = std::make_shared<LoadReport>();
            auto incidents = std::make_shared<Incidents>();
            {
                py::gil_scoped_release release;
                *incidents = read_incidents(path, options, report.get());
            }
            return py::make_tuple(incidents, report);
        },
        py::arg("path"), py::arg("columns"), py::arg("layer"), py::arg("source_crs"), py::arg("working_crs"),
        py::arg("time_zone"), py::arg("categories"), py::arg("time_from"), py::arg("time_to"),
        py::arg("strict"), "(Incidents, LoadReport) read from any OGR source.");

    m.def(
        "incidents_from_arrays",
        [](const InArray<double>& x, const InArray<double>& y, const std::string& crs,
           const std::optional<InArray<LocalSeconds>>& time,
           const std::optional<InArray<LocalSeconds>>& time_end, const std::optional<InArray<double>>& weight,
           const std::optional<InArray<std::int32_t>>& category, const std::vector<std::string>& categories,
           const std::string& time_zone, const std::string& working_crs) {
            if (x.ndim() != 1 || y.ndim() != 1) throw InvalidInput("x and y must be 1-D arrays");
            if (x.size() != y.size())
                throw InvalidInput("x has " + std::to_string(x.size()) + " values, y has " +
                                   std::to_string(y.size()));
            const auto n = static_cast<std::size_t>(x.size());
            ArrayInput input;
            input.x = {x.data(), n};
            input.y = {y.data(), n};
            input.crs = crs;
            input.time = optional_span(time, "time", n);
            input.time_end = optional_span(time_end, "time_end", n);
            input.weight = optional_span(weight, "weight", n);
            input.category = optional_span(category, "category", n);
            input.categories = categories;
            input.time_zone = time_zone;
            input.working_crs = working_crs;
            auto report = std::make_shared<LoadReport>();
            auto incidents = std::make_shared<Incidents>();
            {
                py::gil_scoped_release release;
                *incidents = incidents_from_arrays(input, report.get());
            }
            return py::make_tuple(incidents, report);
        },
        py::arg("x"), py::arg("y"), py::arg("crs"), py::arg("time"), py::arg("time_end"), py::arg("weight"),
        py::arg("category"), py::arg("categories"), py::arg("time_zone"), py::arg("working_crs"),
        "(Incidents, LoadReport) from coordinate arrays; times are int64 local civil seconds.");

    m.def(
        "select",
        [](const Incidents& incidents, const InArray<bool>& keep) {
            if (keep.ndim() != 1 || static_cast<std::size_t>(keep.size()) != incidents.size())
                throw InvalidInput("the selection mask has " + std::to_string(keep.size()) + " values for " +
                                   std::to_string(incidents.size()) + " incidents");
            std::vector<bool> mask(keep.data(), keep.data() + keep.size());
            auto selected = std::make_shared<Incidents>();
            {
                py::gil_scoped_release release;
                *selected = select(incidents, mask);
            }
            return selected;
        },
        py::arg("incidents"), py::arg("keep"));
}

} // namespace streetsafe::python
