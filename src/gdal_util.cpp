#include "gdal_util.hpp"

#include <mutex>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>

#include "streetsafe/error.hpp"

namespace streetsafe::detail {

void ensure_gdal() {
    static std::once_flag once;
    std::call_once(once, [] {
        GDALAllRegister();
        CPLSetErrorHandler(CPLQuietErrorHandler);
    });
}

std::string gdal_last_error() {
    const char* msg = CPLGetLastErrorMsg();
    return (msg != nullptr && *msg != '\0') ? std::string(msg) : std::string("unknown GDAL error");
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A file path, as opposed to a /vsi path or a connection string such as PG:dbname=...
bool is_plain_path(const std::string& source) {
    return source.rfind("/vsi", 0) != 0 && source.find(':') == std::string::npos;
}

/// GDAL says nothing useful about a missing file, so say it first.
void require_file(const std::string& source) {
    VSIStatBufL stat;
    if (is_plain_path(source) && VSIStatL(source.c_str(), &stat) != 0)
        throw IoError("cannot open '" + source + "': no such file");
}

std::string gdal_name(const std::string& source) {
    if (!is_plain_path(source)) return source;
    if (ends_with(source, ".csv.gz")) return "CSV:/vsigzip/" + source;
    if (ends_with(source, ".gz")) return "/vsigzip/" + source;
    if (ends_with(source, ".zip")) return "/vsizip/" + source;
    return source;
}

} // namespace

DatasetPtr open_vector(const std::string& source) {
    ensure_gdal();
    CPLErrorReset();
    require_file(source);
    const std::string name = gdal_name(source);
    DatasetPtr ds(GDALDataset::Open(name.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
    if (!ds) throw IoError("cannot open '" + source + "' as a vector data source: " + gdal_last_error());
    return ds;
}

DatasetPtr open_raster(const std::string& path) {
    ensure_gdal();
    CPLErrorReset();
    require_file(path);
    DatasetPtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
    if (!ds) throw IoError("cannot open '" + path + "' as a raster: " + gdal_last_error());
    return ds;
}

OGRLayer* find_layer(GDALDataset& ds, const std::string& source, const std::string& name) {
    if (ds.GetLayerCount() == 0) throw InvalidInput("'" + source + "' holds no vector layer");
    if (name.empty()) return ds.GetLayer(0);
    if (OGRLayer* layer = ds.GetLayerByName(name.c_str())) return layer;
    std::string names;
    for (int i = 0; i < ds.GetLayerCount(); ++i) names += (i ? ", " : "") + std::string(ds.GetLayer(i)->GetName());
    throw InvalidInput("'" + source + "' has no layer '" + name + "'; its layers are: " + names);
}

} // namespace streetsafe::detail
