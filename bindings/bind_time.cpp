// Time parsing: one field (parse_time) or a column of them (parse_times) in local civil seconds,
// the int64 encoding numpy's datetime64[s] uses.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "streetsafe/time.hpp"

namespace streetsafe::python {

void bind_time(py::module_& m) {
    m.attr("NO_TIME") = py::int_(no_time);

    m.def(
        "parse_time",
        [](const std::string& text, const std::string& zone) -> py::object {
            const std::optional<TimeRange> range = parse_time(text, zone);
            if (!range) return py::none();
            return py::make_tuple(range->start, range->end, std::string(to_string(range->precision)));
        },
        py::arg("text"), py::arg("zone"),
        "(start, end, precision name) in local civil seconds of `zone`, or None when unparsable.");

    m.def(
        "parse_times",
        [](const std::vector<std::optional<std::string>>& texts, const std::string& zone) {
            validate_time_zone(zone);
            const std::size_t n = texts.size();
            py::array_t<std::int64_t> start(static_cast<py::ssize_t>(n));
            py::array_t<std::int64_t> end(static_cast<py::ssize_t>(n));
            py::array_t<std::uint8_t> precision(static_cast<py::ssize_t>(n));
            std::vector<std::int64_t> bad;
            {
                auto s = start.mutable_unchecked<1>();
                auto e = end.mutable_unchecked<1>();
                auto p = precision.mutable_unchecked<1>();
                py::gil_scoped_release release;
                for (std::size_t i = 0; i < n; ++i) {
                    const auto r = static_cast<py::ssize_t>(i);
                    s(r) = e(r) = no_time;
                    p(r) = static_cast<std::uint8_t>(TimePrecision::none);
                    if (!texts[i] || texts[i]->empty()) continue;
                    if (const auto range = parse_time(*texts[i], zone)) {
                        s(r) = range->start;
                        e(r) = range->end;
                        p(r) = static_cast<std::uint8_t>(range->precision);
                    } else {
                        bad.push_back(static_cast<std::int64_t>(i));
                    }
                }
            }
            return py::make_tuple(start, end, precision, py::array_t<std::int64_t>(py::cast(bad)));
        },
        py::arg("texts"), py::arg("zone"),
        "Parses many fields: (start, end, precision, indices of unparsable fields); None or '' gives NaT.");

    m.def(
        "validate_time_zone", [](const std::string& zone) { validate_time_zone(zone); }, py::arg("zone"));

    m.def(
        "format_time",
        [](LocalSeconds t, std::uint8_t precision) {
            return format_time(t, static_cast<TimePrecision>(precision));
        },
        py::arg("t"), py::arg("precision") = static_cast<std::uint8_t>(TimePrecision::second));

    py::list names;
    for (auto p : {TimePrecision::none, TimePrecision::month, TimePrecision::day, TimePrecision::minute,
                   TimePrecision::second})
        names.append(py::str(std::string(to_string(p))));
    m.attr("TIME_PRECISIONS") = py::tuple(names);
}

} // namespace streetsafe::python
