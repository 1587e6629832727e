// Grid: the buffer protocol gives numpy a zero-copy (rows, cols) float64 view of the values;
// GeoTIFF writing and reading, raster summaries, vector layer extents.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/grid.hpp"

namespace streetsafe::python {

namespace {

py::tuple bounds_tuple(const Bounds& b) {
    return py::make_tuple(b.min_x, b.min_y, b.max_x, b.max_y);
}

py::dict summary_dict(const GridSummary& s) {
    py::dict d;
    d["cells"] = s.cells;
    d["valid_cells"] = s.valid_cells;
    d["nonzero_cells"] = s.nonzero_cells;
    d["min"] = s.min;
    d["max"] = s.max;
    d["mean"] = s.mean;
    d["sum"] = s.sum;
    d["max_x"] = s.max_x;
    d["max_y"] = s.max_y;
    return d;
}

std::vector<py::ssize_t> strides_of(const Grid& g) {
    const auto row_bytes = static_cast<py::ssize_t>(g.cols * sizeof(double));
    return {row_bytes, static_cast<py::ssize_t>(sizeof(double))};
}

std::vector<py::ssize_t> shape_of(const Grid& g) {
    return {static_cast<py::ssize_t>(g.rows), static_cast<py::ssize_t>(g.cols)};
}

} // namespace

void bind_grid(py::module_& m) {
    py::class_<Grid, std::shared_ptr<Grid>>(m, "Grid", py::buffer_protocol(),
                                            "A north-up float64 raster (the C++ value).")
        .def_buffer([](Grid& g) {
            return py::buffer_info(g.values.data(), static_cast<py::ssize_t>(sizeof(double)),
                                   py::format_descriptor<double>::format(), 2, shape_of(g), strides_of(g));
        })
        .def_readonly("origin_x", &Grid::origin_x)
        .def_readonly("origin_y", &Grid::origin_y)
        .def_readonly("cell_m", &Grid::cell_m)
        .def_readonly("rows", &Grid::rows)
        .def_readonly("cols", &Grid::cols)
        .def_readonly("crs_wkt", &Grid::crs_wkt)
        .def_readonly("nodata", &Grid::nodata)
        .def_readonly("units", &Grid::units)
        .def_readonly("metadata", &Grid::metadata)
        .def_property_readonly("values",
                               [](py::object self) {
                                   const auto& g = self.cast<const Grid&>();
                                   return py::array(py::dtype::of<double>(), shape_of(g), strides_of(g),
                                                    g.values.data(), self);
                               })
        .def("bounds", [](const Grid& g) { return bounds_tuple(g.bounds()); })
        .def("geotransform", &Grid::geotransform)
        .def("integral", &Grid::integral, py::arg("per_km2"))
        .def("summary",
             [](const Grid& g) {
                 GridSummary s;
                 {
                     py::gil_scoped_release release;
                     s = summarize(g);
                 }
                 return summary_dict(s);
             })
        .def(
            "write_geotiff",
            [](const Grid& g, const std::string& path, bool overviews, bool float32, int block_size,
               int deflate_level) {
                GeoTiffOptions options;
                options.overviews = overviews;
                options.float32 = float32;
                options.block_size = block_size;
                options.deflate_level = deflate_level;
                py::gil_scoped_release release;
                write_geotiff(g, path, options);
            },
            py::arg("path"), py::arg("overviews"), py::arg("float32"), py::arg("block_size"),
            py::arg("deflate_level"))
        .def("_buffer_address",
             [](const Grid& g) { return reinterpret_cast<std::uintptr_t>(g.values.data()); });

    m.def(
        "grid_from_array",
        [](const py::array_t<double, py::array::c_style | py::array::forcecast>& values, double origin_x,
           double origin_y, double cell_m, const std::string& crs_wkt, double nodata,
           const std::string& units, const std::vector<std::pair<std::string, std::string>>& metadata) {
            if (values.ndim() != 2) throw InvalidInput("a grid's values must be a 2-D array (rows, cols)");
            if (!(cell_m > 0)) throw InvalidInput("cell must be positive, not " + std::to_string(cell_m));
            auto g = std::make_shared<Grid>();
            g->origin_x = origin_x;
            g->origin_y = origin_y;
            g->cell_m = cell_m;
            g->rows = static_cast<std::size_t>(values.shape(0));
            g->cols = static_cast<std::size_t>(values.shape(1));
            g->crs_wkt = crs_wkt;
            g->values.assign(values.data(), values.data() + values.size());
            g->nodata = nodata;
            g->units = units;
            g->metadata = metadata;
            return g;
        },
        py::arg("values"), py::arg("origin_x"), py::arg("origin_y"), py::arg("cell_m"), py::arg("crs_wkt"),
        py::arg("nodata"), py::arg("units"), py::arg("metadata"), "A Grid holding a copy of `values`.");

    m.def(
        "read_raster",
        [](const std::string& path) {
            auto g = std::make_shared<Grid>();
            {
                py::gil_scoped_release release;
                *g = read_raster(path);
            }
            return g;
        },
        py::arg("path"));

    m.def(
        "layer_bounds",
        [](const std::string& path, const std::string& layer, const std::string& crs) {
            Bounds b;
            {
                py::gil_scoped_release release;
                b = layer_bounds(path, layer, crs);
            }
            return bounds_tuple(b);
        },
        py::arg("path"), py::arg("layer"), py::arg("crs"));
}

} // namespace streetsafe::python
