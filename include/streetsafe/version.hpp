#pragma once

#include <string>
#include <utility>
#include <vector>

namespace streetsafe {

/// The library's version, e.g. "0.1.0".
std::string version();

/// The library's version and those of the libraries it was built against and runs with:
/// {"streetsafe", ...}, {"GDAL", ...}, {"GEOS", ...}, {"PROJ", ...}, {"Boost", ...}.
std::vector<std::pair<std::string, std::string>> versions();

} // namespace streetsafe
