// Predictive accuracy of hotspot surfaces (hit rate, PAI, PEI, RRI at one share or as a curve),
// the temporal train/test split, and bandwidth selection for kernel density. The GIL is released
// around every computation; curves come back as dicts of numpy arrays.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/bandwidth.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/evaluate.hpp"

namespace streetsafe::python {

namespace {

py::dict coverage_dict(const CoverageReport& r) {
    py::dict d;
    d["incidents"] = r.incidents;
    d["in_study_area"] = r.in_study_area;
    d["outside_grid"] = r.outside_grid;
    d["in_nodata"] = r.in_nodata;
    d["not_finite"] = r.not_finite;
    d["weight_in_study_area"] = r.weight_in_study_area;
    d["weight_outside"] = r.weight_outside;
    return d;
}

template <class T> py::array array_of(std::vector<T> values) {
    // The curve is a temporary: hand each vector to numpy through a capsule that owns it.
    auto* owned = new std::vector<T>(std::move(values));
    py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array(py::dtype::of<T>(), {owned->size()}, {sizeof(T)}, owned->data(), owner);
}

BandwidthChoice choose(const std::string& method, const Incidents& incidents, const Incidents* test,
                       Kernel kernel, const KdeOptions& kde, double area_share, const Context& context) {
    if (method == "scott") return scott_bandwidth(incidents, kernel);
    if (method == "silverman") return silverman_bandwidth(incidents, kernel);
    if (method == "arcgis") return arcgis_bandwidth(incidents);
    if (method == "likelihood" || method == "ppl") return likelihood_cv_bandwidth(incidents, {}, context);
    if (method == "diggle" || method == "mse") return diggle_bandwidth(incidents, {}, context);
    if (method == "pai") {
        if (test == nullptr) throw InvalidInput("bandwidth method 'pai' needs held-out test incidents");
        PaiHoldoutOptions options;
        options.kde = kde;
        options.area_share = area_share;
        return pai_holdout_bandwidth(incidents, *test, options, context);
    }
    throw InvalidInput("bandwidth method must be scott, silverman, arcgis, likelihood, diggle or pai, not '" +
                       method + "'");
}

} // namespace

void bind_evaluate(py::module_& m) {
    m.def(
        "evaluate_hotspots",
        [](const Grid& surface, const Incidents& test, double area_share, const Incidents* train) {
            HotspotEvaluation e;
            {
                py::gil_scoped_release release;
                e = evaluate_hotspots(surface, test, area_share, train);
            }
            py::dict d;
            d["area_share"] = e.area_share;
            d["hotspot_share"] = e.hotspot_share;
            d["hotspot_cells"] = e.hotspot_cells;
            d["study_cells"] = e.study_cells;
            d["hotspot_area_m2"] = e.hotspot_area_m2;
            d["study_area_m2"] = e.study_area_m2;
            d["test_in_hotspots"] = e.test_in_hotspots;
            d["hit_rate"] = e.hit_rate;
            d["pai"] = e.pai;
            d["pai_max"] = e.pai_max;
            d["pei"] = e.pei;
            d["train_in_hotspots"] = e.train_in_hotspots;
            d["rri"] = e.rri;
            d["test"] = coverage_dict(e.test);
            d["train"] = coverage_dict(e.train);
            return d;
        },
        py::arg("surface"), py::arg("test"), py::arg("area_share"), py::arg("train"));

    m.def(
        "evaluate_hotspot_curve",
        [](const Grid& surface, const Incidents& test, std::optional<std::vector<double>> shares,
           const Incidents* train) {
            HotspotCurve c;
            {
                py::gil_scoped_release release;
                c = evaluate_hotspot_curve(surface, test, shares ? *shares : area_shares(), train);
            }
            py::dict d;
            d["area_share"] = array_of(std::move(c.area_share));
            d["hotspot_share"] = array_of(std::move(c.hotspot_share));
            d["hotspot_cells"] = array_of(std::move(c.hotspot_cells));
            d["test_in_hotspots"] = array_of(std::move(c.test_in_hotspots));
            d["hit_rate"] = array_of(std::move(c.hit_rate));
            d["pai"] = array_of(std::move(c.pai));
            d["pai_max"] = array_of(std::move(c.pai_max));
            d["pei"] = array_of(std::move(c.pei));
            d["train_in_hotspots"] = array_of(std::move(c.train_in_hotspots));
            d["rri"] = array_of(std::move(c.rri));
            return py::make_tuple(d, coverage_dict(c.test), coverage_dict(c.train));
        },
        py::arg("surface"), py::arg("test"), py::arg("shares"), py::arg("train"));

    m.def(
        "split_by_time",
        [](const Incidents& incidents, LocalSeconds t0, LocalSeconds t1, LocalSeconds t2) {
            TemporalSplit split;
            {
                py::gil_scoped_release release;
                split = split_by_time(incidents, t0, t1, t2);
            }
            const auto& r = split.report;
            py::dict d;
            d["incidents"] = r.incidents;
            d["train"] = r.train;
            d["test"] = r.test;
            d["before"] = r.before;
            d["after"] = r.after;
            d["straddling"] = r.straddling;
            d["no_time"] = r.no_time;
            d["straddling_rows"] = r.straddling_rows;
            d["summary"] = r.summary();
            return py::make_tuple(std::make_shared<Incidents>(std::move(split.train)),
                                  std::make_shared<Incidents>(std::move(split.test)), d);
        },
        py::arg("incidents"), py::arg("t0"), py::arg("t1"), py::arg("t2"));

    m.def(
        "select_bandwidth",
        [](const Incidents& incidents, const std::string& method, const std::string& kernel,
           const Incidents* test, double cell_m, double area_share, int threads) {
            KdeOptions kde;
            kde.kernel = parse_kernel(kernel);
            kde.cell_m = cell_m;
            Context context;
            context.threads = threads;
            BandwidthChoice c;
            {
                py::gil_scoped_release release;
                c = choose(method, incidents, test, kde.kernel, kde, area_share, context);
            }
            py::dict d;
            d["bandwidth_m"] = c.for_kernel(kde.kernel);
            d["method"] = c.method;
            d["kernel"] = std::string(to_string(kde.kernel));
            d["found_for_kernel"] = std::string(to_string(c.kernel));
            d["found_bandwidth_m"] = c.bandwidth_m;
            d["candidates"] = c.candidates;
            d["scores"] = c.scores;
            d["detail"] = c.detail;
            d["metadata"] = c.metadata();
            return d;
        },
        py::arg("incidents"), py::arg("method"), py::arg("kernel"), py::arg("test"), py::arg("cell_m"),
        py::arg("area_share"), py::arg("threads"));
}

} // namespace streetsafe::python
