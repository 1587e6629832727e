#include "streetsafe/version.hpp"

#include <boost/version.hpp>
#include <gdal.h>
#include <geos_c.h>
#include <proj.h>

namespace streetsafe {

std::string version() { return STREETSAFE_VERSION; }

std::vector<std::pair<std::string, std::string>> versions() {
    const PJ_INFO proj = proj_info();
    return {
        {"streetsafe", version()},
        {"GDAL", GDALVersionInfo("RELEASE_NAME")},
        {"GEOS", GEOSversion()},
        {"PROJ", proj.version},
        {"Boost", std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) +
                      "." + std::to_string(BOOST_VERSION % 100)},
    };
}

} // namespace streetsafe
