// streetsafe._core: the compiled half of the Python package. It holds no logic: each bind_<area>
// file exposes one capability of the C++ library; the pure-Python package (streetsafe/) gives it
// Pythonic names, docstrings and the pandas / geopandas / matplotlib adapters.

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/version.hpp"

PYBIND11_MODULE(_core, m) {
    namespace py = pybind11;
    using namespace streetsafe::python;
    m.doc() = "streetsafe compiled core (private: use the streetsafe package)";
    m.attr("__version__") = streetsafe::version();
    m.def("versions", &streetsafe::versions,
          "The library's version and those of GDAL, GEOS, PROJ and Boost, as (name, version) pairs.");
    bind_errors(m);
    bind_time(m);
    bind_crs(m);
    bind_incidents(m);
    bind_grid(m);
    bind_kde(m);
    bind_io(m);
    bind_areas(m);
    bind_hotspots(m);
    bind_presets(m);
    bind_evaluate(m);
}
