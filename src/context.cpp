#include "streetsafe/context.hpp"

#include <string>

#include "streetsafe/error.hpp"

namespace streetsafe {

void Context::check(std::string_view stage) const {
    if (cancelled()) throw Cancelled("cancelled during " + std::string(stage));
}

} // namespace streetsafe
