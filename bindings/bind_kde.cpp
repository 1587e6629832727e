// Kernel density with the GIL released. Progress reaches a Python callable through a bridge that
// takes the GIL back only when it has something to deliver, and Ctrl-C (KeyboardInterrupt)
// or an exception in the callable cancels the computation through the Context.

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/context.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/kde.hpp"

namespace streetsafe::python {

namespace {

KdeOutput parse_output(const std::string& name) {
    if (name == "density" || name == "density_per_km2") return KdeOutput::density_per_km2;
    if (name == "count" || name == "count_per_cell") return KdeOutput::count_per_cell;
    throw InvalidInput("output must be 'density' or 'count', not '" + name + "'");
}

KdeNormalisation parse_normalisation(const std::string& name) {
    if (name == "discrete") return KdeNormalisation::discrete;
    if (name == "continuous") return KdeNormalisation::continuous;
    throw InvalidInput("normalisation must be 'discrete' or 'continuous', not '" + name + "'");
}

KdeMethod parse_method(const std::string& name) {
    if (name == "exact") return KdeMethod::exact;
    if (name == "brute_force") return KdeMethod::brute_force;
    throw InvalidInput("method must be 'exact' or 'brute_force', not '" + name + "'");
}

/// Called by the C++ computation (on the calling thread, GIL released). Forwards progress to the
/// Python callable at most every 1% and at every stage change and completion, and checks for
/// Python signals (Ctrl-C) at most every 100 ms. A Python exception is kept and turned into a
/// cancellation; the binding re-raises it once the computation has unwound.
class ProgressBridge {
  public:
    explicit ProgressBridge(py::object callback) : m_callback(std::move(callback)) {}

    void operator()(double fraction, std::string_view stage) {
        if (m_cancel.load()) return;
        const auto now = std::chrono::steady_clock::now();
        const bool stage_changed = !m_reported || stage != m_stage;
        const bool report =
            !m_callback.is_none() && (stage_changed || fraction >= 1.0 || fraction - m_fraction >= 0.01);
        const bool check_signals = now - m_signals_checked >= std::chrono::milliseconds(100);
        if (!report && !check_signals) return;
        py::gil_scoped_acquire gil;
        try {
            if (check_signals) {
                m_signals_checked = now;
                if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            }
            if (report) {
                m_reported = true;
                m_fraction = fraction;
                m_stage.assign(stage);
                m_callback(fraction, py::str(stage.data(), stage.size()));
            }
        } catch (py::error_already_set& e) {
            m_error = std::move(e);
            m_cancel.store(true);
        }
    }

    const std::atomic<bool>* cancel_flag() const { return &m_cancel; }
    /// Re-raises the Python exception the callback (or a signal handler) raised, if any.
    void rethrow() const {
        if (m_error) throw *m_error;
    }

  private:
    py::object m_callback;
    std::atomic<bool> m_cancel{false};
    std::optional<py::error_already_set> m_error;
    bool m_reported = false;
    double m_fraction = 0;
    std::string m_stage;
    std::chrono::steady_clock::time_point m_signals_checked = std::chrono::steady_clock::now();
};

} // namespace

void bind_kde(py::module_& m) {
    m.def(
        "kde",
        [](const Incidents& incidents, const std::string& kernel, double bandwidth_m, double cell_m,
           const std::string& output, const std::string& normalisation, const std::string& method,
           std::optional<std::array<double, 4>> bounds, std::optional<std::size_t> max_cells, int threads,
           const py::object& progress) {
            KdeOptions options;
            options.kernel = parse_kernel(kernel);
            options.bandwidth_m = bandwidth_m;
            options.cell_m = cell_m;
            options.output = parse_output(output);
            options.normalisation = parse_normalisation(normalisation);
            options.method = parse_method(method);
            if (bounds) options.bounds = Bounds{(*bounds)[0], (*bounds)[1], (*bounds)[2], (*bounds)[3]};
            if (max_cells) options.max_cells = *max_cells;

            auto bridge = std::make_shared<ProgressBridge>(progress);
            Context context;
            context.threads = threads;
            context.cancel = bridge->cancel_flag();
            context.progress = [bridge](double fraction, std::string_view stage) {
                (*bridge)(fraction, stage);
            };

            auto grid = std::make_shared<Grid>();
            try {
                py::gil_scoped_release release;
                *grid = kde(incidents, options, context);
            } catch (const Cancelled&) {
                bridge->rethrow(); // the KeyboardInterrupt or callback error that caused it
                throw;
            }
            bridge->rethrow();
            return grid;
        },
        py::arg("incidents"), py::arg("kernel"), py::arg("bandwidth_m"), py::arg("cell_m"), py::arg("output"),
        py::arg("normalisation"), py::arg("method"), py::arg("bounds"), py::arg("max_cells"),
        py::arg("threads"), py::arg("progress"), "Kernel density of the incidents' weights on a Grid.");

    m.def(
        "support_radius",
        [](const std::string& kernel, double bandwidth_m) {
            return support_radius(parse_kernel(kernel), bandwidth_m);
        },
        py::arg("kernel"), py::arg("bandwidth_m"));
    m.def(
        "kernel_value",
        [](const std::string& kernel, double d2_m2, double bandwidth_m) {
            return kernel_value(parse_kernel(kernel), d2_m2, bandwidth_m);
        },
        py::arg("kernel"), py::arg("d2_m2"), py::arg("bandwidth_m"));
}

} // namespace streetsafe::python
