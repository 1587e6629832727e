#pragma once

#include <atomic>
#include <functional>
#include <string_view>

namespace streetsafe {

/// Carries progress reporting and cancellation into long computations. Every field is optional;
/// a default-constructed Context reports nothing and never cancels.
struct Context {
    /// Called with the fraction done in [0, 1] and a short stage label. Called from the thread
    /// that started the computation only.
    std::function<void(double fraction, std::string_view stage)> progress;
    /// Set to true (from any thread) to stop the computation; it then throws streetsafe::Cancelled.
    const std::atomic<bool>* cancel = nullptr;
    /// Worker threads for parallel stages; 0 means all hardware threads. Results never depend on it.
    int threads = 0;

    void report(double fraction, std::string_view stage) const {
        if (progress) progress(fraction, stage);
    }
    [[nodiscard]] bool cancelled() const { return cancel != nullptr && cancel->load(); }
    /// Throws Cancelled when cancellation was requested.
    void check(std::string_view stage) const;
};

} // namespace streetsafe
