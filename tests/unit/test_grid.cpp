// Grid: covering and its limits, accessors, summaries, GeoTIFF round trips and layer extents.

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <gtest/gtest.h>

#include "streetsafe/crs.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/grid.hpp"
#include "support.hpp"

using namespace streetsafe;

namespace {

std::string what_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "<no exception>";
}

struct GdalCloser {
    void operator()(GDALDataset* ds) const { GDALClose(GDALDataset::ToHandle(ds)); }
};
using Dataset = std::unique_ptr<GDALDataset, GdalCloser>;

Dataset open(const std::string& path) {
    GDALAllRegister();
    return Dataset(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
}

/// A grid with a recognisable pattern, some nodata (NaN) cells and some zeros.
Grid pattern_grid(std::size_t rows, std::size_t cols) {
    Grid g = Grid::covering(Bounds{529000, 179000, 529000 + 20.0 * double(cols), 179000 + 20.0 * double(rows)}, 20,
                            resolve_crs("EPSG:27700").wkt);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            g.at(r, c) = std::sin(0.05 * double(r)) * std::cos(0.031 * double(c)) * 1234.5678 + 1e-7 * double(r * c);
    g.at(0, 0) = std::numeric_limits<double>::quiet_NaN();
    g.at(rows - 1, cols - 1) = std::numeric_limits<double>::quiet_NaN();
    g.at(1, 1) = 0.0;
    g.units = "incidents per km2";
    g.metadata = {{"kernel", "quartic"}, {"bandwidth_m", "250"}, {"note", "a value with spaces, = and ü"}};
    return g;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Grid::covering

TEST(GridCovering, ExpandsOutwardToWholeCellsOnTheCellLattice) {
    const Grid g = Grid::covering(Bounds{1003.2, 2011.9, 1096.1, 2050.0}, 25, "WKT");
    EXPECT_EQ(g.origin_x, 1000.0);
    EXPECT_EQ(g.origin_y, 2050.0);
    EXPECT_EQ(g.cols, 4u); // 1000 .. 1100
    EXPECT_EQ(g.rows, 2u); // 2000 .. 2050
    EXPECT_EQ(g.values.size(), 8u);
    EXPECT_EQ(g.crs_wkt, "WKT");
    for (const double v : g.values) EXPECT_EQ(v, 0.0);
    const Bounds b = g.bounds();
    EXPECT_EQ(b.min_x, 1000.0);
    EXPECT_EQ(b.max_x, 1100.0);
    EXPECT_EQ(b.min_y, 2000.0);
    EXPECT_EQ(b.max_y, 2050.0);
}

TEST(GridCovering, GridsOfTheSameCellSizeAlign) {
    const Grid a = Grid::covering(Bounds{531234.567, 181111.1, 532000.9, 182345.6}, 12.5, "");
    const Grid b = Grid::covering(Bounds{-77.7, -1234.5, 9.9, 3.3}, 12.5, "");
    for (const Grid* g : {&a, &b}) {
        EXPECT_EQ(std::remainder(g->origin_x, 12.5), 0.0);
        EXPECT_EQ(std::remainder(g->origin_y, 12.5), 0.0);
    }
    EXPECT_EQ(std::remainder(a.origin_x - b.origin_x, 12.5), 0.0);
    // Bounds already on the lattice are kept as they are.
    const Grid c = Grid::covering(Bounds{500, 600, 1000, 1200}, 100, "");
    EXPECT_EQ(c.cols, 5u);
    EXPECT_EQ(c.rows, 6u);
    EXPECT_EQ(c.origin_x, 500.0);
    EXPECT_EQ(c.origin_y, 1200.0);
}

TEST(GridCovering, InvalidBoundsOrCellSizeAreRefused) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (const Bounds& b : {Bounds{0, 0, 0, 10}, Bounds{0, 10, 10, 5}, Bounds{nan, 0, 10, 10},
                            Bounds{0, 0, std::numeric_limits<double>::infinity(), 10}}) {
        const std::string what = what_of([&] { Grid::covering(b, 10, ""); });
        EXPECT_NE(what.find("bounds"), std::string::npos) << what;
        EXPECT_THROW(Grid::covering(b, 10, ""), InvalidInput);
    }
    EXPECT_THROW(Grid::covering(Bounds{0, 0, 10, 10}, 0, ""), InvalidInput);
    EXPECT_THROW(Grid::covering(Bounds{0, 0, 10, 10}, -1, ""), InvalidInput);
    EXPECT_THROW(Grid::covering(Bounds{0, 0, 10, 10}, nan, ""), InvalidInput);
}

TEST(GridCovering, TooManyCellsFailFastNamingTheSize) {
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto start = std::chrono::steady_clock::now();
    const std::string what = what_of([] { Grid::covering(Bounds{0, 0, 50000, 20000}, 1, ""); });
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0.5);
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 100 * 1024); // KiB
    EXPECT_NE(what.find("20000 rows"), std::string::npos) << what;
    EXPECT_NE(what.find("50000 columns"), std::string::npos) << what;
    EXPECT_NE(what.find("1000000000 cells"), std::string::npos) << what;
    // Absurd extents must not overflow into a small number.
    EXPECT_THROW(Grid::covering(Bounds{-1e300, -1e300, 1e300, 1e300}, 1, ""), InvalidInput);
    EXPECT_THROW(Grid::covering(Bounds{0, 0, 1e6, 1e6}, 1e-3, ""), InvalidInput);
    // A custom limit.
    EXPECT_THROW(Grid::covering(Bounds{0, 0, 100, 100}, 1, "", 9999), InvalidInput);
    EXPECT_EQ(Grid::covering(Bounds{0, 0, 100, 100}, 1, "", 10000).size(), 10000u);
}

// ---------------------------------------------------------------------------------------------
// Accessors and summaries

TEST(Grid, CentresAndGeotransform) {
    const Grid g = Grid::covering(Bounds{100, 200, 400, 500}, 50, "");
    EXPECT_EQ(g.centre_x(0), 125.0);
    EXPECT_EQ(g.centre_y(0), 475.0);
    EXPECT_EQ(g.centre_x(g.cols - 1), 375.0);
    EXPECT_EQ(g.centre_y(g.rows - 1), 225.0);
    EXPECT_EQ(g.geotransform(), (std::vector<double>{100, 50, 0, 500, 0, -50}));
    EXPECT_EQ(g.cell_area_m2(), 2500.0);
}

TEST(Grid, IntegralIgnoresNodata) {
    Grid g = Grid::covering(Bounds{0, 0, 2000, 1000}, 1000, "");
    ASSERT_EQ(g.size(), 2u);
    g.values = {3.0, std::numeric_limits<double>::quiet_NaN()};
    EXPECT_DOUBLE_EQ(g.integral(false), 3.0 * 1e6);
    EXPECT_DOUBLE_EQ(g.integral(true), 3.0);
    g.values = {3.0, -9999.0};
    g.nodata = -9999.0;
    EXPECT_DOUBLE_EQ(g.integral(true), 3.0);
}

TEST(Grid, SummarizeCountsAndLocatesTheMaximum) {
    Grid g = Grid::covering(Bounds{0, 0, 30, 20}, 10, "");
    g.values = {0, 1, 5, std::numeric_limits<double>::quiet_NaN(), 5, -2};
    const GridSummary s = summarize(g);
    EXPECT_EQ(s.cells, 6u);
    EXPECT_EQ(s.valid_cells, 5u);
    EXPECT_EQ(s.nonzero_cells, 4u);
    EXPECT_EQ(s.min, -2.0);
    EXPECT_EQ(s.max, 5.0);
    EXPECT_EQ(s.sum, 9.0);
    EXPECT_DOUBLE_EQ(s.mean, 9.0 / 5.0);
    EXPECT_EQ(s.max_x, 25.0); // the first maximum: row 0, column 2
    EXPECT_EQ(s.max_y, 15.0);

    g.values.assign(6, std::numeric_limits<double>::quiet_NaN());
    const GridSummary empty = summarize(g);
    EXPECT_EQ(empty.valid_cells, 0u);
    EXPECT_EQ(empty.sum, 0.0);
    EXPECT_TRUE(std::isnan(empty.max));
}

// ---------------------------------------------------------------------------------------------
// GeoTIFF

TEST(GeoTiff, RoundTripKeepsValuesGeoreferencingAndMetadata) {
    const auto dir = test::scratch_dir("grid-geotiff");
    const std::string path = (dir / "density.tif").string();
    const Grid g = pattern_grid(700, 530);
    GeoTiffOptions options;
    options.block_size = 256;
    write_geotiff(g, path, options);

    const Grid back = read_raster(path);
    ASSERT_EQ(back.rows, g.rows);
    ASSERT_EQ(back.cols, g.cols);
    EXPECT_EQ(back.geotransform(), g.geotransform());
    EXPECT_EQ(back.cell_m, g.cell_m);
    EXPECT_TRUE(std::isnan(back.nodata));
    for (std::size_t i = 0; i < g.values.size(); ++i) {
        if (std::isnan(g.values[i])) {
            ASSERT_TRUE(std::isnan(back.values[i])) << i;
        } else {
            ASSERT_EQ(back.values[i], g.values[i]) << i; // lossless: DEFLATE with the float predictor
        }
    }
    EXPECT_EQ(back.units, g.units);
    for (const auto& item : g.metadata) {
        bool found = false;
        for (const auto& got : back.metadata) found = found || got == item;
        EXPECT_TRUE(found) << item.first;
    }
    OGRSpatialReference written, read;
    ASSERT_EQ(written.importFromWkt(g.crs_wkt.c_str()), OGRERR_NONE);
    ASSERT_EQ(read.importFromWkt(back.crs_wkt.c_str()), OGRERR_NONE);
    EXPECT_TRUE(read.IsSame(&written));

    // What GDAL reports about the file itself.
    const Dataset ds = open(path);
    ASSERT_TRUE(ds);
    EXPECT_STREQ(ds->GetDriver()->GetDescription(), "GTiff");
    EXPECT_STREQ(ds->GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"), "DEFLATE");
    const char* predictor = ds->GetMetadataItem("PREDICTOR", "IMAGE_STRUCTURE");
    if (predictor != nullptr) {
        EXPECT_STREQ(predictor, "3");
    }
    GDALRasterBand* band = ds->GetRasterBand(1);
    EXPECT_EQ(band->GetRasterDataType(), GDT_Float64);
    int bx = 0, by = 0;
    band->GetBlockSize(&bx, &by);
    EXPECT_EQ(bx, 256); // tiled: square blocks, not strips of whole rows
    EXPECT_EQ(by, 256);
    EXPECT_STREQ(band->GetDescription(), "incidents per km2");
    EXPECT_EQ(band->GetOverviewCount(), 2); // 700 → 350 → 175: the last fits one 256 tile
    EXPECT_EQ(band->GetOverview(0)->GetXSize(), 265);
    // The overview is the average of the cells below it (GDAL averages in single precision).
    double ov = 0;
    ASSERT_EQ(band->GetOverview(0)->RasterIO(GF_Read, 10, 10, 1, 1, &ov, 1, 1, GDT_Float64, 0, 0, nullptr), CE_None);
    const double expected = (g.at(20, 20) + g.at(20, 21) + g.at(21, 20) + g.at(21, 21)) / 4;
    EXPECT_NEAR(ov, expected, 1e-6 * std::abs(expected));
}

TEST(GeoTiff, Float32WithoutOverviewsAndAnotherNodata) {
    const auto dir = test::scratch_dir("grid-geotiff-f32");
    const std::string path = (dir / "count.tif").string();
    Grid g = pattern_grid(40, 70);
    g.nodata = -1.0;
    g.values[5] = -1.0;
    GeoTiffOptions options;
    options.float32 = true;
    options.overviews = false;
    options.block_size = 64;
    write_geotiff(g, path, options);
    const Grid back = read_raster(path);
    EXPECT_EQ(back.nodata, -1.0);
    for (std::size_t i = 0; i < g.values.size(); ++i) {
        if (std::isnan(g.values[i])) {
            EXPECT_TRUE(std::isnan(back.values[i]));
        } else {
            EXPECT_EQ(back.values[i], double(float(g.values[i]))) << i;
        }
    }
    const Dataset ds = open(path);
    EXPECT_EQ(ds->GetRasterBand(1)->GetRasterDataType(), GDT_Float32);
    EXPECT_EQ(ds->GetRasterBand(1)->GetOverviewCount(), 0);
}

TEST(GeoTiff, SmallGridHasNoOverviewsNeeded) {
    const auto dir = test::scratch_dir("grid-geotiff-small");
    const std::string path = (dir / "small.tif").string();
    write_geotiff(pattern_grid(30, 40), path);
    EXPECT_EQ(open(path)->GetRasterBand(1)->GetOverviewCount(), 0); // fits one 256 tile already
}

TEST(GeoTiff, WriteErrorsNameThePath) {
    const std::string path = "/nonexistent-directory/sub/density.tif";
    const std::string what = what_of([&] { write_geotiff(pattern_grid(10, 10), path); });
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_THROW(write_geotiff(pattern_grid(10, 10), path), IoError);
    GeoTiffOptions bad;
    bad.block_size = 100;
    EXPECT_THROW(write_geotiff(pattern_grid(10, 10), "/tmp/never-written.tif", bad), InvalidInput);
    Grid broken = pattern_grid(10, 10);
    broken.values.pop_back();
    EXPECT_THROW(write_geotiff(broken, "/tmp/never-written.tif"), InvalidInput);
}

TEST(ReadRaster, RefusesRotatedOrNonSquareRastersNamingTheFile) {
    const auto dir = test::scratch_dir("grid-read");
    GDALAllRegister();
    GDALDriver* gtiff = GetGDALDriverManager()->GetDriverByName("GTiff");
    auto make = [&](const std::string& name, std::vector<double> gt) {
        const std::string path = (dir / name).string();
        Dataset ds(gtiff->Create(path.c_str(), 4, 3, 1, GDT_Float32, nullptr));
        ds->SetGeoTransform(gt.data());
        return path;
    };
    const std::string rotated = make("rotated.tif", {0, 10, 1, 100, 1, -10});
    const std::string flipped = make("flipped.tif", {0, 10, 0, 100, 0, 10});
    const std::string non_square = make("nonsquare.tif", {0, 10, 0, 100, 0, -20});
    for (const std::string& path : {rotated, flipped, non_square}) {
        EXPECT_THROW(read_raster(path), InvalidInput) << path;
        const std::string what = what_of([&] { read_raster(path); });
        EXPECT_NE(what.find(path), std::string::npos) << what;
    }
    const std::string ok = make("ok.tif", {0, 10, 0, 100, 0, -10});
    const Grid g = read_raster(ok);
    EXPECT_EQ(g.rows, 3u);
    EXPECT_EQ(g.cols, 4u);
    EXPECT_EQ(g.origin_y, 100.0);
    EXPECT_THROW(read_raster((dir / "missing.tif").string()), IoError);
}

// ---------------------------------------------------------------------------------------------
// Layer extents

TEST(LayerBounds, GeoJsonInLonLatTransformedToBritishNationalGrid) {
    const auto dir = test::scratch_dir("grid-layer-bounds");
    const std::string path = (dir / "points.geojson").string();
    {
        std::ofstream out(path);
        out << R"({"type": "FeatureCollection", "name": "incidents", "features": [
  {"type": "Feature", "properties": {"id": 1}, "geometry": {"type": "Point", "coordinates": [-0.1420, 51.5010]}},
  {"type": "Feature", "properties": {"id": 2}, "geometry": {"type": "Point", "coordinates": [-0.0750, 51.5080]}},
  {"type": "Feature", "properties": {"id": 3}, "geometry": {"type": "Point", "coordinates": [-0.1270, 51.5330]}}
]})";
    }
    const Bounds b = layer_bounds(path, "", "EPSG:27700");

    // The corners of the lon/lat extent, transformed with PROJ through Transformer.
    std::vector<double> lon = {-0.1420, -0.0750, -0.0750, -0.1420}, lat = {51.5010, 51.5010, 51.5330, 51.5330};
    Transformer(resolve_crs("EPSG:4326"), resolve_crs("EPSG:27700")).transform(lon, lat);
    const double min_x = std::min({lon[0], lon[1], lon[2], lon[3]}), max_x = std::max({lon[0], lon[1], lon[2], lon[3]});
    const double min_y = std::min({lat[0], lat[1], lat[2], lat[3]}), max_y = std::max({lat[0], lat[1], lat[2], lat[3]});
    // Densified edges can only widen the box, and for a few kilometres by well under a metre.
    EXPECT_LE(b.min_x, min_x + 1e-6);
    EXPECT_LE(b.min_y, min_y + 1e-6);
    EXPECT_GE(b.max_x, max_x - 1e-6);
    EXPECT_GE(b.max_y, max_y - 1e-6);
    EXPECT_NEAR(b.min_x, min_x, 1.0);
    EXPECT_NEAR(b.max_x, max_x, 1.0);
    EXPECT_NEAR(b.min_y, min_y, 1.0);
    EXPECT_NEAR(b.max_y, max_y, 1.0);
    // Sanity: Westminster is around easting 529,000, northing 179,000.
    EXPECT_NEAR(b.min_x, 529500, 2000);
    EXPECT_NEAR(b.min_y, 179500, 2000);

    // The same CRS: the extent unchanged.
    const Bounds same = layer_bounds(path, "incidents", "EPSG:4326");
    EXPECT_NEAR(same.min_x, -0.1420, 1e-12);
    EXPECT_NEAR(same.max_y, 51.5330, 1e-12);

    const std::string what = what_of([&] { layer_bounds(path, "roads", "EPSG:27700"); });
    EXPECT_NE(what.find("roads"), std::string::npos) << what;
    EXPECT_NE(what.find("incidents"), std::string::npos) << what; // the layers it has
    EXPECT_THROW(layer_bounds((dir / "missing.geojson").string(), "", "EPSG:27700"), IoError);
}
