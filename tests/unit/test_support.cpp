#include "support.hpp"

#include <cstdlib>

namespace streetsafe::test {

std::string shared_data(const std::string& relative) {
    const std::filesystem::path p = std::filesystem::path(STREETSAFE_SHARED_DATA) / relative;
    return std::filesystem::exists(p) ? p.string() : std::string();
}

std::filesystem::path scratch_dir(const std::string& name) {
    const auto dir = std::filesystem::temp_directory_path() / "streetsafe-tests" / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::string project_file(const std::string& relative) {
    return (std::filesystem::path(STREETSAFE_SOURCE_DIR) / relative).string();
}

} // namespace streetsafe::test
