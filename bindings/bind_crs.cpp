// Coordinate reference systems as plain dicts: Python users meet CRSs as strings (EPSG codes, WKT)
// and pass them on to pyproj or geopandas, so no CRS class is exposed.

#include <string>

#include "bindings.hpp"
#include "streetsafe/crs.hpp"

namespace streetsafe::python {

namespace {

py::dict to_dict(const Crs& crs) {
    py::dict d;
    d["definition"] = crs.definition;
    d["wkt"] = crs.wkt;
    d["name"] = crs.name;
    d["authority"] = crs.authority;
    d["projected"] = crs.projected;
    d["geographic"] = crs.geographic;
    d["metres_per_unit"] = crs.metres_per_unit;
    d["area_of_use"] = py::make_tuple(crs.area_of_use.west, crs.area_of_use.south, crs.area_of_use.east,
                                      crs.area_of_use.north);
    return d;
}

} // namespace

void bind_crs(py::module_& m) {
    m.def(
        "crs_info",
        [](const std::string& definition) {
            Crs crs;
            {
                py::gil_scoped_release release;
                crs = resolve_crs(definition);
            }
            return to_dict(crs);
        },
        py::arg("definition"), "Resolves a CRS through PROJ: a dict of name, authority, wkt, ...");
    m.def(
        "automatic_working_crs",
        [](double lon, double lat) {
            Crs crs;
            {
                py::gil_scoped_release release;
                crs = automatic_working_crs(lon, lat);
            }
            return to_dict(crs);
        },
        py::arg("lon"), py::arg("lat"));
}

} // namespace streetsafe::python
