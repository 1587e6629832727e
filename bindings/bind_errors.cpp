// streetsafe's exception hierarchy as Python exceptions. Each kind also inherits the matching
// built-in, as h3-py does, so `except ValueError` and `except OSError` work as users expect.

#include <exception>

#include "bindings.hpp"
#include "streetsafe/error.hpp"

namespace streetsafe::python {

namespace {

// The Python classes, created once at import and alive for the process (the translator must be a
// plain function, so they cannot be captured).
PyObject* error_type = nullptr;
PyObject* invalid_input_type = nullptr;
PyObject* io_error_type = nullptr;
PyObject* crs_error_type = nullptr;
PyObject* cancelled_type = nullptr;

void translate(std::exception_ptr p) {
    // Most derived first: each C++ kind becomes its own Python class.
    try {
        if (p) std::rethrow_exception(p);
    } catch (const InvalidInput& e) {
        PyErr_SetString(invalid_input_type, e.what());
    } catch (const IoError& e) {
        PyErr_SetString(io_error_type, e.what());
    } catch (const CrsError& e) {
        PyErr_SetString(crs_error_type, e.what());
    } catch (const Cancelled& e) {
        PyErr_SetString(cancelled_type, e.what());
    } catch (const Error& e) {
        PyErr_SetString(error_type, e.what());
    }
}

/// A new exception class `streetsafe.<name>` deriving from `bases` (a class or a tuple), added to `m`.
PyObject* new_exception(py::module_& m, const char* name, const char* doc, py::handle bases) {
    const std::string qualified = std::string("streetsafe.") + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (type == nullptr) throw py::error_already_set();
    m.add_object(name, py::handle(type)); // the module keeps the reference for the process' life
    return type;
}

} // namespace

void bind_errors(py::module_& m) {
    error_type = new_exception(m, "Error",
                               "Root of every error streetsafe raises; the message says what was wrong, "
                               "where (file, row, field) and what was expected.",
                               PyExc_Exception);
    invalid_input_type =
        new_exception(m, "InvalidInput",
                      "Input that cannot be used as given: a bad option value, an unparsable row under "
                      "strict loading, an empty selection. Also a ValueError.",
                      py::make_tuple(py::handle(error_type), py::handle(PyExc_ValueError)));
    io_error_type = new_exception(m, "IoError",
                                  "A file or data source that cannot be opened, read or written. "
                                  "Also an OSError.",
                                  py::make_tuple(py::handle(error_type), py::handle(PyExc_OSError)));
    crs_error_type = new_exception(m, "CrsError",
                                   "A coordinate reference system that cannot be resolved, or a "
                                   "transformation that fails.",
                                   error_type);
    cancelled_type = new_exception(
        m, "Cancelled", "A computation stopped on request (e.g. from a progress callback).", error_type);

    py::register_exception_translator(&translate);
}

} // namespace streetsafe::python
