// Hot spots: incident counts on a grid, Getis-Ord Gi* (grid, areas, points) with numpy views of its
// arrays, and hotspot polygons as a FeatureTable. The GIL is released around every computation.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/hotspots.hpp"

namespace streetsafe::python {

namespace {

using InDoubles = py::array_t<double, py::array::c_style | py::array::forcecast>;

GiStarOptions gi_options(double distance_band_m, int k, bool fdr) {
    GiStarOptions options;
    options.distance_band_m = distance_band_m;
    options.k_neighbours = k;
    options.fdr = fdr;
    options.validate();
    return options;
}

std::span<const double> span_of(const InDoubles& a, const char* name) {
    if (a.ndim() != 1) throw InvalidInput(std::string(name) + " must be a 1-D array");
    return {a.data(), static_cast<std::size_t>(a.size())};
}

HotspotSelection parse_selection(const std::string& name) {
    if (name == "top_percent") return HotspotSelection::top_percent;
    if (name == "gi_star") return HotspotSelection::gi_star;
    if (name == "at_least") return HotspotSelection::at_least;
    throw InvalidInput("selection must be 'top_percent', 'gi_star' or 'at_least', not '" + name + "'");
}

py::dict summary_dict(const HotspotSummary& s) {
    py::dict d;
    d["study_cells"] = s.study_cells;
    d["selected_cells"] = s.selected_cells;
    d["polygons"] = s.polygons;
    d["study_area_km2"] = s.study_area_km2;
    d["selected_area_km2"] = s.selected_area_km2;
    d["incidents_study"] = s.incidents_study;
    d["incidents_selected"] = s.incidents_selected;
    d["incidents_outside"] = s.incidents_outside;
    d["lowest_selected_value"] = s.lowest_selected_value;
    return d;
}

} // namespace

void bind_hotspots(py::module_& m) {
    py::class_<GiStar, std::shared_ptr<GiStar>>(m, "GiStar", "Getis-Ord Gi* per feature (the C++ value).")
        .def_property_readonly("z", [](py::object self) { return vector_view(self.cast<const GiStar&>().z, self); })
        .def_property_readonly("p", [](py::object self) { return vector_view(self.cast<const GiStar&>().p, self); })
        .def_property_readonly("p_fdr",
                               [](py::object self) { return vector_view(self.cast<const GiStar&>().p_fdr, self); })
        .def_property_readonly("gi_bin",
                               [](py::object self) { return vector_view(self.cast<const GiStar&>().gi_bin, self); })
        .def_property_readonly(
            "gi_bin_fdr", [](py::object self) { return vector_view(self.cast<const GiStar&>().gi_bin_fdr, self); })
        .def_property_readonly(
            "neighbours", [](py::object self) { return vector_view(self.cast<const GiStar&>().neighbours, self); })
        .def_readonly("features", &GiStar::features)
        .def_readonly("isolated", &GiStar::isolated)
        .def_readonly("mean", &GiStar::mean)
        .def_readonly("sd", &GiStar::sd)
        .def_readonly("distance_band_m", &GiStar::distance_band_m)
        .def_readonly("k_neighbours", &GiStar::k_neighbours)
        .def_readonly("fdr", &GiStar::fdr);

    m.def(
        "count_grid",
        [](const Incidents& incidents, double cell_m, std::optional<std::array<double, 4>> bounds) {
            std::optional<Bounds> b;
            if (bounds) b = Bounds{(*bounds)[0], (*bounds)[1], (*bounds)[2], (*bounds)[3]};
            auto grid = std::make_shared<Grid>();
            py::gil_scoped_release release;
            *grid = count_grid(incidents, cell_m, b);
            return grid;
        },
        py::arg("incidents"), py::arg("cell_m"), py::arg("bounds"), "Incident weights summed per cell.");
    m.def(
        "count_grid_like",
        [](const Incidents& incidents, const Grid& like) {
            auto grid = std::make_shared<Grid>();
            py::gil_scoped_release release;
            *grid = count_grid(incidents, like);
            return grid;
        },
        py::arg("incidents"), py::arg("like"), "Counts on the grid and study-area mask of `like`.");

    m.def(
        "gi_star_grid",
        [](const Grid& values, double distance_band_m, int k, bool fdr, int threads) {
            const GiStarOptions options = gi_options(distance_band_m, k, fdr);
            Context context;
            context.threads = threads;
            GridGiStar result;
            {
                py::gil_scoped_release release;
                result = gi_star(values, options, context);
            }
            return py::make_tuple(std::make_shared<GiStar>(std::move(result.stats)),
                                  std::make_shared<Grid>(std::move(result.z)),
                                  std::make_shared<Grid>(std::move(result.classes)));
        },
        py::arg("values"), py::arg("distance_band_m"), py::arg("k"), py::arg("fdr"), py::arg("threads"),
        "(GiStar, z Grid, class Grid) of every valid cell.");
    m.def(
        "gi_star_points",
        [](const InDoubles& x, const InDoubles& y, const InDoubles& values, double distance_band_m, int k,
           bool fdr, int threads) {
            const GiStarOptions options = gi_options(distance_band_m, k, fdr);
            Context context;
            context.threads = threads;
            const auto xs = span_of(x, "x"), ys = span_of(y, "y"), vs = span_of(values, "values");
            auto result = std::make_shared<GiStar>();
            py::gil_scoped_release release;
            *result = gi_star_points(xs, ys, vs, options, context);
            return result;
        },
        py::arg("x"), py::arg("y"), py::arg("values"), py::arg("distance_band_m"), py::arg("k"), py::arg("fdr"),
        py::arg("threads"));
    m.def(
        "gi_star_areas",
        [](const AreaLayer& areas, const InDoubles& values, double distance_band_m, int k, bool fdr,
           int threads) {
            const GiStarOptions options = gi_options(distance_band_m, k, fdr);
            Context context;
            context.threads = threads;
            const auto vs = span_of(values, "values");
            auto result = std::make_shared<GiStar>();
            py::gil_scoped_release release;
            *result = gi_star(areas, vs, options, context);
            return result;
        },
        py::arg("areas"), py::arg("values"), py::arg("distance_band_m"), py::arg("k"), py::arg("fdr"),
        py::arg("threads"));
    m.def(
        "gi_star_table",
        [](const AreaLayer& areas, const InDoubles& values, const GiStar& result) {
            const auto vs = span_of(values, "values");
            return std::make_shared<FeatureTable>(gi_star_table(areas, vs, result));
        },
        py::arg("areas"), py::arg("values"), py::arg("result"));
    m.def(
        "gi_bin_style", [](const std::string& field) { return std::make_shared<LayerStyle>(gi_bin_style(field)); },
        py::arg("field"));
    m.def(
        "fdr_adjust", [](const InDoubles& p) { return fdr_adjust(span_of(p, "p")); }, py::arg("p"),
        "Benjamini-Hochberg q-values.");

    m.def(
        "hotspot_polygons",
        [](const Grid& surface, const Incidents& incidents, const std::string& selection, double top_percent,
           double distance_band_m, int k, bool fdr, int min_gi_bin, double threshold, std::size_t min_cells,
           int threads) {
            HotspotPolygonOptions options;
            options.selection = parse_selection(selection);
            options.top_percent = top_percent;
            options.gi = gi_options(distance_band_m, k, fdr);
            options.min_gi_bin = min_gi_bin;
            options.threshold = threshold;
            options.min_cells = min_cells;
            options.validate();
            Context context;
            context.threads = threads;
            HotspotSummary summary;
            auto table = std::make_shared<FeatureTable>();
            {
                py::gil_scoped_release release;
                *table = hotspot_polygons(surface, incidents, options, &summary, context);
            }
            py::dict s = summary_dict(summary);
            s["gi"] = summary.gi ? py::cast(std::make_shared<GiStar>(std::move(*summary.gi))) : py::none();
            return py::make_tuple(table, s);
        },
        py::arg("surface"), py::arg("incidents"), py::arg("selection"), py::arg("top_percent"),
        py::arg("distance_band_m"), py::arg("k"), py::arg("fdr"), py::arg("min_gi_bin"), py::arg("threshold"),
        py::arg("min_cells"), py::arg("threads"), "(FeatureTable, summary dict) of hotspot polygons.");
    m.def(
        "write_hotspots_gpkg",
        [](const std::string& path, const std::string& layer, const FeatureTable& table,
           const std::string& style_field, int classes) {
            py::gil_scoped_release release;
            write_hotspots_gpkg(path, layer, table, style_field, classes);
        },
        py::arg("path"), py::arg("layer"), py::arg("table"), py::arg("style_field"), py::arg("classes"));
}

} // namespace streetsafe::python
