#pragma once

#include <memory>
#include <string>

#include <gdal_priv.h>
#include <ogrsf_frmts.h>

namespace streetsafe::detail {

/// Registers GDAL's drivers once, and turns GDAL's error output off (errors reach users as
/// exceptions with GDAL's last message).
void ensure_gdal();

/// GDAL's last error message, or "unknown GDAL error".
std::string gdal_last_error();

struct DatasetCloser {
    void operator()(GDALDataset* ds) const { GDALClose(GDALDataset::ToHandle(ds)); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

/// Opens a vector source: a path (with `.gz` read through /vsigzip/) or a connection string.
/// Throws IoError naming the source.
DatasetPtr open_vector(const std::string& source);

/// Opens a raster for reading. Throws IoError naming the path.
DatasetPtr open_raster(const std::string& path);

/// The layer named `name`, or the first layer when `name` is empty. Throws InvalidInput naming
/// the source and the layers it has.
OGRLayer* find_layer(GDALDataset& ds, const std::string& source, const std::string& name);

} // namespace streetsafe::detail
