#pragma once

#include <filesystem>
#include <string>

namespace streetsafe::test {

/// Path of a file under ../shared/data (the real public data), or "" when it is absent.
/// Real-data tests call require_shared() first: it fails the test when the data is missing and
/// STREETSAFE_REQUIRE_SHARED=1, and skips it otherwise.
std::string shared_data(const std::string& relative);

/// A fresh scratch directory for one test, removed at the start of the next run.
std::filesystem::path scratch_dir(const std::string& name);

/// Path of a file of the project (e.g. "data/demo_incidents.csv").
std::string project_file(const std::string& relative);

} // namespace streetsafe::test

/// Skips (or, with STREETSAFE_REQUIRE_SHARED=1, fails) the current test when `path` is empty.
#define STREETSAFE_REQUIRE_SHARED(path)                                                                \
    do {                                                                                               \
        if ((path).empty()) {                                                                          \
            const char* req = std::getenv("STREETSAFE_REQUIRE_SHARED");                                \
            if (req != nullptr && std::string(req) == "1")                                             \
                FAIL() << "shared data missing and STREETSAFE_REQUIRE_SHARED=1: " << STREETSAFE_SHARED_DATA; \
            GTEST_SKIP() << "shared data not found under " << STREETSAFE_SHARED_DATA;                  \
        }                                                                                              \
    } while (0)
