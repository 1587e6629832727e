// Area layers (wards, LSOAs): reading through GDAL, population joins, incidents per area with rates
// per 1,000 residents, and the styled GeoPackage choropleth. Arrays reach numpy without copies.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/areas.hpp"
#include "streetsafe/error.hpp"

namespace streetsafe::python {

py::list wkb_list(const std::vector<std::vector<unsigned char>>& wkb); // bind_io.cpp

namespace {

template <class T, class Owner> auto array_property(std::vector<T> Owner::*member) {
    return [member](py::object self) { return vector_view(self.cast<const Owner&>().*member, self); };
}

} // namespace

void bind_areas(py::module_& m) {
    py::class_<AreaLayer, std::shared_ptr<AreaLayer>>(m, "AreaLayer",
                                                      "Polygons of an area layer in a projected CRS.")
        .def("__len__", &AreaLayer::size)
        .def_readonly("ids", &AreaLayer::ids)
        .def_readonly("names", &AreaLayer::names)
        .def_property_readonly("population", array_property(&AreaLayer::population))
        .def_property_readonly("area_m2", array_property(&AreaLayer::area_m2))
        .def_property_readonly("centroid_x", array_property(&AreaLayer::centroid_x))
        .def_property_readonly("centroid_y", array_property(&AreaLayer::centroid_y))
        .def_property_readonly("wkb", [](const AreaLayer& a) { return wkb_list(a.wkb); })
        .def_property_readonly("crs_wkt", [](const AreaLayer& a) { return a.crs.wkt; })
        .def_property_readonly("crs_name", [](const AreaLayer& a) { return a.crs.name; })
        .def_property_readonly("repaired", [](const AreaLayer& a) {
            py::list out;
            for (const auto& r : a.repaired) {
                py::dict d;
                d["index"] = r.index;
                d["feature"] = r.feature;
                d["id"] = r.id;
                d["reason"] = r.reason;
                out.append(d);
            }
            return out;
        });

    m.def(
        "read_areas",
        [](const std::string& path, const std::string& layer, const std::string& id_field,
           const std::string& name_field, const std::string& population_field, const std::string& where,
           const std::string& working_crs, const std::string& source_crs) {
            AreaReadOptions options;
            options.layer = layer;
            options.id_field = id_field;
            options.name_field = name_field;
            options.population_field = population_field;
            options.where = where;
            options.working_crs = working_crs;
            options.source_crs = source_crs;
            auto report = std::make_shared<LoadReport>();
            auto areas = std::make_shared<AreaLayer>();
            {
                py::gil_scoped_release release;
                *areas = read_areas(path, options, report.get());
            }
            return py::make_tuple(areas, report);
        },
        py::arg("path"), py::arg("layer"), py::arg("id_field"), py::arg("name_field"),
        py::arg("population_field"), py::arg("where"), py::arg("working_crs"), py::arg("source_crs"),
        "(AreaLayer, LoadReport) read from any OGR source.");

    m.def(
        "join_population",
        [](AreaLayer& areas, const std::string& path, const std::string& key_field, const std::string& value_field,
           const std::string& where) {
            py::gil_scoped_release release;
            return join_population(areas, path, key_field, value_field, where);
        },
        py::arg("areas"), py::arg("path"), py::arg("key_field"), py::arg("value_field"), py::arg("where"),
        "Sets the areas' population in place; returns the ids left without one.");

    py::class_<AreaRates, std::shared_ptr<AreaRates>>(m, "AreaRates", "Incidents per area (the C++ value).")
        .def("__len__", &AreaRates::size)
        .def_property_readonly("count", array_property(&AreaRates::count))
        .def_property_readonly("weighted_count", array_property(&AreaRates::weighted_count))
        .def_property_readonly("rate_per_1000", array_property(&AreaRates::rate_per_1000))
        .def_property_readonly("density_per_km2", array_property(&AreaRates::density_per_km2))
        .def_property_readonly("rank_by_rate", array_property(&AreaRates::rank_by_rate))
        .def_property_readonly("rank_by_count", array_property(&AreaRates::rank_by_count))
        .def_property_readonly("share", array_property(&AreaRates::share))
        .def_property_readonly("area_of_incident", array_property(&AreaRates::area_of_incident))
        .def_property_readonly("outside_rows", array_property(&AreaRates::outside_rows))
        .def_readonly("outside_count", &AreaRates::outside_count)
        .def_readonly("outside_weight", &AreaRates::outside_weight)
        .def_readonly("total", &AreaRates::total)
        .def_readonly("weighted", &AreaRates::weighted);

    m.def(
        "area_rates",
        [](const AreaLayer& areas, const Incidents& incidents, bool weighted, double min_population) {
            AreaRateOptions options;
            options.weighted = weighted;
            options.min_population = min_population;
            options.validate();
            auto rates = std::make_shared<AreaRates>();
            py::gil_scoped_release release;
            *rates = area_rates(areas, incidents, options);
            return rates;
        },
        py::arg("areas"), py::arg("incidents"), py::arg("weighted"), py::arg("min_population"));
    m.def(
        "area_rates_table",
        [](const AreaLayer& areas, const AreaRates& rates) {
            return std::make_shared<FeatureTable>(area_rates_table(areas, rates));
        },
        py::arg("areas"), py::arg("rates"));
    m.def(
        "write_area_rates_gpkg",
        [](const std::string& path, const std::string& layer, const AreaLayer& areas, const AreaRates& rates,
           int classes) {
            py::gil_scoped_release release;
            write_area_rates_gpkg(path, layer, areas, rates, classes);
        },
        py::arg("path"), py::arg("layer"), py::arg("areas"), py::arg("rates"), py::arg("classes"));
}

} // namespace streetsafe::python
