#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "streetsafe/crs.hpp"
#include "streetsafe/error.hpp"

using namespace streetsafe;

TEST(Crs, ResolvesBritishNationalGrid) {
    const Crs crs = resolve_crs("EPSG:27700");
    EXPECT_TRUE(crs.projected);
    EXPECT_FALSE(crs.geographic);
    EXPECT_EQ(crs.authority, "EPSG:27700");
    EXPECT_EQ(crs.name, "OSGB36 / British National Grid");
    EXPECT_DOUBLE_EQ(crs.metres_per_unit, 1.0);
    EXPECT_TRUE(crs.area_of_use.contains(-0.1, 51.5));
    EXPECT_FALSE(crs.area_of_use.contains(-90.2, 38.6));
    EXPECT_NE(crs.wkt.find("PROJCRS"), std::string::npos);
}

TEST(Crs, ResolvesWktBackToTheSameCrs) {
    const Crs a = resolve_crs("EPSG:26915");
    const Crs b = resolve_crs(a.wkt);
    EXPECT_EQ(b.authority, "EPSG:26915");
    EXPECT_EQ(a.name, b.name);
}

TEST(Crs, FeetAreReported) {
    const Crs crs = resolve_crs("ESRI:102696"); // Missouri East State Plane, US feet
    EXPECT_TRUE(crs.projected);
    EXPECT_NEAR(crs.metres_per_unit, 0.3048006096, 1e-9);
}

TEST(Crs, UnknownDefinitionNamesIt) {
    try {
        resolve_crs("EPSG:999999");
        FAIL() << "expected CrsError";
    } catch (const CrsError& e) {
        EXPECT_NE(std::string(e.what()).find("EPSG:999999"), std::string::npos) << e.what();
    }
    EXPECT_THROW(resolve_crs(""), CrsError);
    EXPECT_THROW(resolve_crs("not a crs"), CrsError);
}

TEST(Crs, AutomaticWorkingCrs) {
    EXPECT_EQ(automatic_working_crs(-0.12, 51.5).authority, "EPSG:27700");  // London
    EXPECT_EQ(automatic_working_crs(-3.19, 55.95).authority, "EPSG:27700"); // Edinburgh
    EXPECT_EQ(automatic_working_crs(-5.93, 54.6).authority, "EPSG:32630");  // Belfast: not GB
    EXPECT_EQ(automatic_working_crs(-6.26, 53.35).authority, "EPSG:32629"); // Dublin
    EXPECT_EQ(automatic_working_crs(-90.2, 38.6).authority, "EPSG:32615");  // St. Louis
    EXPECT_EQ(automatic_working_crs(151.2, -33.9).authority, "EPSG:32756"); // Sydney
    EXPECT_EQ(automatic_working_crs(5.3, 60.4).authority, "EPSG:32632");    // Bergen (Norway exception)
    EXPECT_EQ(automatic_working_crs(179.9, 10.0).authority, "EPSG:32660");
    EXPECT_EQ(automatic_working_crs(180.0, 10.0).authority, "EPSG:32601"); // the antimeridian starts zone 1
    EXPECT_THROW(automatic_working_crs(std::nan(""), 0), CrsError);
}

TEST(Transformer, TrueOriginOfTheNationalGrid) {
    // The projection's true origin, 49°N 2°W on OSGB36, is at E 400000, N -100000 by definition.
    Transformer t(resolve_crs("EPSG:4277"), resolve_crs("EPSG:27700"));
    std::vector<double> x{-2.0}, y{49.0};
    t.transform(x, y);
    EXPECT_NEAR(x[0], 400000.0, 1e-6);
    EXPECT_NEAR(y[0], -100000.0, 1e-6);
}

TEST(Transformer, TakesLongitudeFirstForEpsg4326) {
    // EPSG:4326 is latitude-first for its authority; streetsafe always passes longitude first.
    Transformer t(resolve_crs("EPSG:4326"), resolve_crs("EPSG:32615"));
    std::vector<double> x{-93.0}, y{0.0};
    t.transform(x, y);
    EXPECT_NEAR(x[0], 500000.0, 1e-6); // central meridian of UTM zone 15
    EXPECT_NEAR(y[0], 0.0, 1e-6);
}

TEST(Transformer, RoundTripAndFailures) {
    const Crs wgs84 = resolve_crs("EPSG:4326");
    const Crs bng = resolve_crs("EPSG:27700");
    std::vector<double> x{-0.1276, -2.5, 1.0}, y{51.5072, 53.0, 52.0};
    const auto x0 = x, y0 = y;
    Transformer(wgs84, bng).transform(x, y);
    EXPECT_NEAR(x[0], 530000, 1000); // Charing Cross is near E 530000, N 180000
    EXPECT_NEAR(y[0], 180400, 1000);
    Transformer(bng, wgs84).transform(x, y);
    for (std::size_t i = 0; i < x.size(); ++i) {
        EXPECT_NEAR(x[i], x0[i], 1e-7); // the OSGB36 Helmert shift inverts to about 1 mm
        EXPECT_NEAR(y[i], y0[i], 1e-7);
    }
    std::vector<double> bad_x{0.0}, bad_y{95.0};
    Transformer(wgs84, bng).transform(bad_x, bad_y);
    EXPECT_TRUE(std::isnan(bad_x[0]));
    std::vector<double> one{1.0};
    std::vector<double> two{1.0, 2.0};
    EXPECT_THROW(Transformer(wgs84, bng).transform(one, two), InvalidInput);
}
