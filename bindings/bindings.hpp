#pragma once

// Shared declarations of the pybind11 bindings: one bind_<area>() per capability, called by
// module.cpp, and the helper that exposes a C++ vector to numpy without copying it.

#include <cstddef>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

namespace streetsafe::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_time(py::module_& m);
void bind_crs(py::module_& m);
void bind_incidents(py::module_& m);
void bind_grid(py::module_& m);
void bind_kde(py::module_& m);
void bind_io(py::module_& m);
void bind_hotspots(py::module_& m);
void bind_areas(py::module_& m);
void bind_presets(py::module_& m);
void bind_evaluate(py::module_& m);

/// A 1-D numpy view of `values` that shares its memory; `owner` (the Python object holding the
/// vector) becomes the array's base and so stays alive as long as the view. Read-only unless
/// `writable`: the owner's invariants (equal lengths, category codes in range) are C++'s to keep.
template <class T>
py::array vector_view(const std::vector<T>& values, py::handle owner, const py::dtype& dtype,
                      bool writable = false) {
    py::array view(dtype, {values.size()}, {sizeof(T)}, values.data(), owner);
    if (!writable) py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return view;
}

template <class T> py::array vector_view(const std::vector<T>& values, py::handle owner) {
    return vector_view(values, owner, py::dtype::of<T>());
}

} // namespace streetsafe::python
