#pragma once

#include <stdexcept>
#include <string>

namespace streetsafe {

/// Root of every exception streetsafe throws. Messages say what was wrong, where (file, row,
/// field) and what was expected.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Input that cannot be used as given: a bad option value, an unparsable row under strict
/// loading, an empty selection.
class InvalidInput : public Error {
public:
    using Error::Error;
};

/// A file or data source that cannot be opened, read or written.
class IoError : public Error {
public:
    using Error::Error;
};

/// A coordinate reference system that cannot be resolved, or a transformation that fails.
class CrsError : public Error {
public:
    using Error::Error;
};

/// A computation stopped on request through its Context.
class Cancelled : public Error {
public:
    using Error::Error;
};

} // namespace streetsafe
