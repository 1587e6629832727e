// Feature tables (the result tables of hot spots and area rates) and QGIS styles: a table's numeric
// columns reach numpy without copies, geometries come out as ISO WKB bytes; GeoPackage layers with
// a default style, raster .qml sidecars and quantile (graduated) styles.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/io.hpp"

namespace streetsafe::python {

namespace {

LayerStyle::Kind parse_kind(const std::string& name) {
    if (name == "graduated") return LayerStyle::Kind::graduated;
    if (name == "categorized") return LayerStyle::Kind::categorized;
    if (name == "single") return LayerStyle::Kind::single;
    throw InvalidInput("style kind must be 'graduated', 'categorized' or 'single', not '" + name + "'");
}

const char* kind_name(LayerStyle::Kind kind) {
    switch (kind) {
    case LayerStyle::Kind::graduated: return "graduated";
    case LayerStyle::Kind::categorized: return "categorized";
    case LayerStyle::Kind::single: return "single";
    }
    return "graduated";
}

} // namespace

py::list wkb_list(const std::vector<std::vector<unsigned char>>& wkb) {
    py::list out;
    for (const auto& g : wkb)
        out.append(py::bytes(reinterpret_cast<const char*>(g.data()), g.size()));
    return out;
}

void bind_io(py::module_& m) {
    py::class_<FeatureTable, std::shared_ptr<FeatureTable>>(
        m, "FeatureTable", "Features as ISO WKB geometries plus attribute columns (the C++ value).")
        .def_readonly("crs_wkt", &FeatureTable::crs_wkt)
        .def("__len__", [](const FeatureTable& t) { return t.wkb.size(); })
        .def_property_readonly("wkb", [](const FeatureTable& t) { return wkb_list(t.wkb); })
        .def_property_readonly("column_names",
                               [](const FeatureTable& t) {
                                   std::vector<std::string> names;
                                   for (const auto& c : t.columns)
                                       names.push_back(c.name);
                                   return names;
                               })
        .def(
            "columns",
            [](py::object self) {
                // Numeric columns are read-only numpy views of the table's vectors; text columns lists.
                const auto& t = self.cast<const FeatureTable&>();
                py::dict out;
                for (const auto& c : t.columns) {
                    if (const auto* d = std::get_if<std::vector<double>>(&c.values))
                        out[py::str(c.name)] = vector_view(*d, self);
                    else if (const auto* i = std::get_if<std::vector<std::int64_t>>(&c.values))
                        out[py::str(c.name)] = vector_view(*i, self);
                    else
                        out[py::str(c.name)] = py::cast(std::get<std::vector<std::string>>(c.values));
                }
                return out;
            },
            "The columns as a dict of name to numpy array (numbers, no copy) or list (text).");

    py::class_<LayerStyle, std::shared_ptr<LayerStyle>>(m, "LayerStyle", "How QGIS draws a layer.")
        .def(py::init([](const std::string& kind, const std::string& field, std::vector<double> breaks,
                         std::vector<std::string> labels, std::vector<std::string> values,
                         std::vector<std::string> colours, double opacity, const std::string& title,
                         double lower, bool interpolate) {
                 auto s = std::make_shared<LayerStyle>();
                 s->kind = parse_kind(kind);
                 s->field = field;
                 s->breaks = std::move(breaks);
                 s->labels = std::move(labels);
                 s->values = std::move(values);
                 s->colours = std::move(colours);
                 s->opacity = opacity;
                 s->title = title;
                 s->lower = lower;
                 s->interpolate = interpolate;
                 s->validate();
                 return s;
             }),
             py::arg("kind"), py::arg("field"), py::arg("breaks"), py::arg("labels"), py::arg("values"),
             py::arg("colours"), py::arg("opacity"), py::arg("title"), py::arg("lower"), py::arg("interpolate"))
        .def_property_readonly("kind", [](const LayerStyle& s) { return kind_name(s.kind); })
        .def_readonly("field", &LayerStyle::field)
        .def_readonly("breaks", &LayerStyle::breaks)
        .def_readonly("labels", &LayerStyle::labels)
        .def_readonly("values", &LayerStyle::values)
        .def_readonly("colours", &LayerStyle::colours)
        .def_readonly("opacity", &LayerStyle::opacity)
        .def_readonly("title", &LayerStyle::title)
        .def_readonly("lower", &LayerStyle::lower)
        .def_readwrite("interpolate", &LayerStyle::interpolate)
        .def("__repr__", [](const LayerStyle& s) {
            return "<streetsafe.LayerStyle " + std::string(kind_name(s.kind)) + " on '" + s.field + "', " +
                   std::to_string(s.colours.size()) + " colours>";
        });

    m.def(
        "graduated_style",
        [](const std::string& field, const py::array_t<double, py::array::c_style | py::array::forcecast>& values,
           int classes, const std::string& unit) {
            std::vector<double> v(values.data(), values.data() + values.size());
            return std::make_shared<LayerStyle>(graduated_style(field, std::move(v), classes, unit));
        },
        py::arg("field"), py::arg("values"), py::arg("classes"), py::arg("unit"),
        "Quantile classes over `values` (NaNs ignored), pale yellow to dark red.");
    m.def(
        "write_gpkg_layer",
        [](const std::string& path, const std::string& layer, const FeatureTable& table, const LayerStyle& style) {
            py::gil_scoped_release release;
            write_gpkg_layer(path, layer, table, style);
        },
        py::arg("path"), py::arg("layer"), py::arg("table"), py::arg("style"));
    m.def(
        "write_raster_qml",
        [](const std::string& raster_path, const LayerStyle& style) {
            py::gil_scoped_release release;
            return write_raster_qml(raster_path, style);
        },
        py::arg("raster_path"), py::arg("style"), "Writes <raster>.qml; returns its path.");
    m.def("vector_style_qml", &vector_style_qml, py::arg("style"), py::arg("geometry_type"));
}

} // namespace streetsafe::python
