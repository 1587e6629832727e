#include <cmath>
#include <fstream>
#include <string>

#include <cpl_vsi.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogrsf_frmts.h>

#include "streetsafe/error.hpp"
#include "streetsafe/incidents.hpp"
#include "support.hpp"

using namespace streetsafe;
using streetsafe::test::scratch_dir;

namespace {

std::string write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

const SkippedRow* find_skip(const LoadReport& r, std::int64_t row) {
    for (const auto& s : r.skipped)
        if (s.row == row) return &s;
    return nullptr;
}

} // namespace

TEST(ReadIncidents, MappedCsvWithEveryKindOfDefect) {
    const auto dir = scratch_dir("mapped_csv");
    const std::string path = write_file(dir / "in.csv",
        "ref,e,n,when,until,kind,w\n"
        "a,530000,180000,2021-06-01T16:30:00,,Robbery,1\n"        // row 1: kept
        "b,530100,180050,2021-06-01 17:05,2021-06-01 18:30,Violence,2.5\n" // 2: kept, a range
        "c,,180000,2021-06-01T16:30:00,,Robbery,1\n"                // 3: missing x
        "d,53x000,180000,2021-06-01T16:30:00,,Robbery,1\n"          // 4: unparsable x
        "e,530000,180000,yesterday,,Robbery,1\n"                     // 5: unparsable time
        "f,530000,180000,2021-06-01T16:30:00,,Robbery,-1\n"         // 6: negative weight
        "g,530000,180000,2021-06-01T16:30:00,,Robbery,nan\n"        // 7: non-finite weight
        "h,530000,180000,2021-06,,Burglary,1\n"                      // 8: month precision, kept
        "i,530000,180000,2021-06-01T18:00:00,2021-06-01T17:00:00,Robbery,1\n" // 9: end before start
        "j,530200,180100,,,Violence,1\n");                           // 10: no time, kept
    ReadOptions opt;
    opt.columns = {.x = "e", .y = "n", .time = "when", .time_end = "until", .category = "kind", .weight = "w",
                   .id = "ref"};
    opt.source_crs = "EPSG:27700";
    opt.working_crs = "EPSG:27700";
    opt.time_zone = "Europe/London";
    LoadReport report;
    const Incidents inc = read_incidents(path, opt, &report);
    inc.validate();
    ASSERT_EQ(inc.size(), 4u);
    EXPECT_EQ(report.rows_read, 10);
    EXPECT_EQ(report.rows_kept, 4);
    EXPECT_EQ(report.skipped.size(), 6u);
    EXPECT_EQ(report.schema, "mapped");
    EXPECT_EQ(report.row_meaning, "row");
    EXPECT_EQ(inc.source_row, (std::vector<std::int64_t>{1, 2, 8, 10}));
    EXPECT_EQ(inc.ids, (std::vector<std::string>{"a", "b", "h", "j"}));
    EXPECT_NEAR(inc.x[0], 530000, 1e-6);
    EXPECT_NEAR(inc.y[1], 180050, 1e-6);
    EXPECT_EQ(inc.weight[1], 2.5);
    EXPECT_EQ(inc.time[0], local_seconds(2021, 6, 1, 16, 30, 0));
    EXPECT_EQ(inc.time_end[0], inc.time[0]);
    EXPECT_EQ(inc.precision[0], TimePrecision::second);
    EXPECT_EQ(inc.time[1], local_seconds(2021, 6, 1, 17, 5));
    EXPECT_EQ(inc.time_end[1], local_seconds(2021, 6, 1, 18, 30));
    EXPECT_EQ(inc.precision[1], TimePrecision::minute);
    EXPECT_EQ(inc.precision[2], TimePrecision::month);
    EXPECT_EQ(inc.time[2], local_seconds(2021, 6, 1));
    EXPECT_EQ(inc.time_end[2], local_seconds(2021, 7, 1) - 1);
    EXPECT_EQ(inc.precision[3], TimePrecision::none);
    EXPECT_EQ(inc.time[3], no_time);
    EXPECT_EQ(inc.categories[static_cast<std::size_t>(inc.category[0])], "Robbery");
    EXPECT_EQ(inc.categories[static_cast<std::size_t>(inc.category[1])], "Violence");
    EXPECT_EQ(inc.category_code("Burglary"), inc.category[2]);
    EXPECT_EQ(inc.crs.authority, "EPSG:27700");
    EXPECT_EQ(inc.time_zone, "Europe/London");

    ASSERT_NE(find_skip(report, 3), nullptr);
    EXPECT_EQ(find_skip(report, 3)->reason, SkipReason::missing_coordinate);
    EXPECT_EQ(find_skip(report, 4)->reason, SkipReason::unparsable_coordinate);
    EXPECT_EQ(find_skip(report, 4)->detail, "'53x000'");
    EXPECT_EQ(find_skip(report, 5)->reason, SkipReason::unparsable_time);
    EXPECT_EQ(find_skip(report, 6)->reason, SkipReason::non_finite_weight);
    EXPECT_EQ(find_skip(report, 7)->reason, SkipReason::non_finite_weight);
    EXPECT_EQ(find_skip(report, 9)->reason, SkipReason::unparsable_time);
    const std::string summary = report.summary();
    EXPECT_NE(summary.find("10 rows read, 4 kept, 6 skipped"), std::string::npos) << summary;
    EXPECT_NE(summary.find("row 5: 'yesterday'"), std::string::npos) << summary;

    opt.strict = true;
    try {
        read_incidents(path, opt);
        FAIL() << "strict loading must throw";
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("row 3: missing coordinate"), std::string::npos) << e.what();
    }
}

TEST(ReadIncidents, FiltersOnCategoryAndTime) {
    const auto dir = scratch_dir("filters");
    const std::string path = write_file(dir / "in.csv",
        "lon,lat,time,category\n"
        "-0.10,51.50,2021-03-01T10:00:00Z,Robbery\n"
        "-0.11,51.51,2021-03-02T10:00:00Z,Violence\n"
        "-0.12,51.52,2021-04-01T10:00:00Z,Robbery\n"
        "-0.13,51.53,2021-03,Robbery\n"
        "-0.13,51.53,,Robbery\n");
    ReadOptions opt;
    opt.categories = {"Robbery"};
    opt.time_from = local_seconds(2021, 3, 1);
    opt.time_to = local_seconds(2021, 4, 1);
    opt.time_zone = "Europe/London";
    LoadReport report;
    const Incidents inc = read_incidents(path, opt, &report);
    // Row 4 (March, month precision) lies wholly inside [March, April); row 3 is in April.
    EXPECT_EQ(inc.source_row, (std::vector<std::int64_t>{1, 4}));
    EXPECT_EQ(find_skip(report, 2)->reason, SkipReason::outside_category_filter);
    EXPECT_EQ(find_skip(report, 3)->reason, SkipReason::outside_time_filter);
    EXPECT_EQ(find_skip(report, 5)->reason, SkipReason::missing_time);
    EXPECT_EQ(report.schema, "recognised column names");
    EXPECT_TRUE(report.working_crs_automatic);
    EXPECT_EQ(inc.crs.authority, "EPSG:27700");
    // 10:00Z in March is 10:00 GMT in London.
    EXPECT_EQ(inc.time[0], local_seconds(2021, 3, 1, 10, 0, 0));
}

TEST(ReadIncidents, NullIslandAndOutsideTheCrsAreaAreReported) {
    const auto dir = scratch_dir("null_island");
    const std::string path = write_file(dir / "in.csv",
        "longitude,latitude\n"
        "-0.10,51.50\n"
        "0,0\n"
        "151.2,-33.9\n"
        "200,10\n"
        "-0.11,51.49\n");
    LoadReport report;
    const Incidents inc = read_incidents(path, {}, &report);
    EXPECT_EQ(inc.source_row, (std::vector<std::int64_t>{1, 5}));
    EXPECT_EQ(find_skip(report, 2)->reason, SkipReason::null_island);
    EXPECT_EQ(find_skip(report, 3)->reason, SkipReason::outside_crs_area);
    EXPECT_EQ(find_skip(report, 4)->reason, SkipReason::unparsable_coordinate);
    EXPECT_EQ(report.count(SkipReason::null_island), 1);
}

TEST(ReadIncidents, RecognisesPoliceUkAndSlmpdHeadersAndReadsGzip) {
    const auto dir = scratch_dir("schemas");
    const std::string police =
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n"
        "abc,2017-05,Metropolitan Police Service,Metropolitan Police Service,-0.220661,51.498737,On or near X,"
        "E01001851,Hammersmith and Fulham 010A,Violence and sexual offences,Unable to prosecute suspect,\n"
        ",2017-06,Metropolitan Police Service,Metropolitan Police Service,,,No location,,,Anti-social behaviour,,\n";
    // Written through GDAL's gzip writer, read back directly.
    const std::string gz = (dir / "police.csv.gz").string();
    VSILFILE* f = VSIFOpenL(("/vsigzip/" + gz).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    VSIFWriteL(police.data(), 1, police.size(), f);
    VSIFCloseL(f);
    LoadReport report;
    const Incidents inc = read_incidents(gz, {}, &report);
    EXPECT_EQ(report.schema, "police.uk");
    ASSERT_EQ(inc.size(), 1u);
    EXPECT_EQ(inc.time_zone, "Europe/London");
    EXPECT_EQ(inc.precision[0], TimePrecision::month);
    EXPECT_EQ(inc.time[0], local_seconds(2017, 5, 1));
    EXPECT_EQ(inc.categories.at(0), "Violence and sexual offences");
    EXPECT_EQ(inc.ids.at(0), "abc");
    EXPECT_EQ(find_skip(report, 2)->reason, SkipReason::missing_coordinate);

    const std::string slmpd = write_file(dir / "slmpd.csv",
        "complaint,occurred,coded_month,crime_code,offence_count,ucr_code,ucr_category,ucr_part,description,district,"
        "neighborhood,address_number,street,location_name,flag_crime,flag_administrative,x_ft,y_ft,lon,lat,source_file\n"
        "17-000008,2017-01-01 00:01,2017-01,091114,1,09,Other assaults,2,\"ASSAULT, ADULT\",4,77,3326,BELL AVE,,Y,,"
        "898599.1,1022527.0,-90.225539,38.641459,2017/january2017.csv\n"
        "17-000009,2017-07-04 16:45,2017-07,021111,1,02,Forcible rape,1,RAPE,4,77,3300,BELL AVE,,Y,,,,,,x.csv\n");
    const Incidents stl = read_incidents(slmpd, {}, &report);
    EXPECT_EQ(report.schema, "slmpd");
    ASSERT_EQ(stl.size(), 1u);
    EXPECT_EQ(stl.time_zone, "America/Chicago");
    EXPECT_EQ(stl.crs.authority, "EPSG:32615");
    EXPECT_EQ(stl.time[0], local_seconds(2017, 1, 1, 0, 1));
    EXPECT_EQ(stl.precision[0], TimePrecision::minute);
    EXPECT_EQ(stl.ids.at(0), "17-000008");
    EXPECT_EQ(find_skip(report, 2)->reason, SkipReason::missing_coordinate);
}

namespace {

/// Writes a point layer with a time field through OGR.
std::string write_points(const std::filesystem::path& path, const char* driver, int epsg,
                         const std::vector<std::pair<double, double>>& pts, bool with_line = false) {
    GDALAllRegister();
    GDALDriver* drv = GetGDALDriverManager()->GetDriverByName(driver);
    GDALDataset* ds = drv->Create(path.string().c_str(), 0, 0, 0, GDT_Unknown, nullptr);
    OGRSpatialReference srs;
    srs.importFromEPSG(epsg);
    srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRLayer* layer = ds->CreateLayer("incidents", &srs, with_line ? wkbUnknown : wkbPoint, nullptr);
    OGRFieldDefn tf("time", OFTString);
    layer->CreateField(&tf);
    for (const auto& [x, y] : pts) {
        OGRFeature feat(layer->GetLayerDefn());
        OGRPoint p(x, y);
        feat.SetGeometry(&p);
        feat.SetField("time", "2022-01-10T08:00:00+00:00");
        EXPECT_EQ(layer->CreateFeature(&feat), OGRERR_NONE);
    }
    if (with_line) {
        OGRFeature feat(layer->GetLayerDefn());
        OGRLineString line;
        line.addPoint(pts[0].first, pts[0].second);
        line.addPoint(pts[0].first + 1, pts[0].second + 1);
        feat.SetGeometry(&line);
        EXPECT_EQ(layer->CreateFeature(&feat), OGRERR_NONE);
    }
    GDALClose(ds);
    return path.string();
}

} // namespace

TEST(ReadIncidents, VectorLayersUseTheirGeometryAndCrs) {
    const auto dir = scratch_dir("vector");
    const std::string gpkg = write_points(dir / "in.gpkg", "GPKG", 27700, {{530000, 180000}, {531000, 181000}}, true);
    LoadReport report;
    const Incidents a = read_incidents(gpkg, {}, &report);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(report.schema, "vector layer");
    EXPECT_EQ(report.row_meaning, "feature");
    EXPECT_EQ(report.source_crs, "EPSG:27700");
    EXPECT_NEAR(a.x[1], 531000, 1e-6);
    EXPECT_EQ(a.time[0], local_seconds(2022, 1, 10, 8, 0, 0));
    ASSERT_EQ(report.skipped.size(), 1u);
    EXPECT_EQ(report.skipped[0].reason, SkipReason::missing_geometry);
    EXPECT_EQ(report.skipped[0].detail, "geometry is LINESTRING, expected Point");

    // GeoJSON in lon/lat: longitude first, whatever EPSG:4326's authority axis order says.
    const std::string json = write_points(dir / "in.geojson", "GeoJSON", 4326, {{-0.1276, 51.5072}});
    const Incidents b = read_incidents(json, {}, &report);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b.crs.authority, "EPSG:27700");
    EXPECT_NEAR(b.x[0], 530000, 1000);
    EXPECT_NEAR(b.y[0], 180400, 1000);
}

TEST(ReadIncidents, ClearErrors) {
    const auto dir = scratch_dir("errors");
    EXPECT_THROW(read_incidents((dir / "absent.csv").string()), IoError);
    const std::string no_coords = write_file(dir / "nc.csv", "a,b\n1,2\n");
    try {
        read_incidents(no_coords);
        FAIL();
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("its columns are: a, b"), std::string::npos) << e.what();
    }
    ReadOptions opt;
    opt.columns = {.lon = "lon", .lat = "latitude"};
    const std::string csv = write_file(dir / "c.csv", "lon,lat\n-0.1,51.5\n");
    try {
        read_incidents(csv, opt);
        FAIL();
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("no column 'latitude' for the latitude"), std::string::npos) << e.what();
    }
    ReadOptions bad_zone;
    bad_zone.time_zone = "Mars/Olympus";
    EXPECT_THROW(read_incidents(csv, bad_zone), InvalidInput);
    ReadOptions geographic_working;
    geographic_working.working_crs = "EPSG:4326";
    EXPECT_THROW(read_incidents(csv, geographic_working), CrsError);
    ReadOptions layer;
    layer.layer = "nope";
    EXPECT_THROW(read_incidents(csv, layer), InvalidInput);
    const std::string all_bad = write_file(dir / "bad.csv", "lon,lat\n,\n0,0\n");
    EXPECT_THROW(read_incidents(all_bad), InvalidInput);
}

TEST(IncidentsFromArrays, MatchesTheCsvLoader) {
    const auto dir = scratch_dir("arrays");
    const std::string csv = write_file(dir / "c.csv", "lon,lat,weight\n-0.1,51.5,2\n-0.2,51.45,1\n0,0,1\n");
    const Incidents a = read_incidents(csv);
    const std::vector<double> x{-0.1, -0.2, 0.0}, y{51.5, 51.45, 0.0}, w{2, 1, 1};
    LoadReport report;
    const Incidents b = incidents_from_arrays({.x = x, .y = y, .crs = "EPSG:4326", .weight = w}, &report);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(report.count(SkipReason::null_island), 1);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_DOUBLE_EQ(a.x[i], b.x[i]);
        EXPECT_DOUBLE_EQ(a.y[i], b.y[i]);
        EXPECT_EQ(a.weight[i], b.weight[i]);
    }
    const std::vector<double> short_y{1.0};
    EXPECT_THROW(incidents_from_arrays({.x = x, .y = short_y, .crs = "EPSG:4326"}), InvalidInput);

    const Incidents s = select(b, {false, true});
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s.source_row[0], 1);
    EXPECT_EQ(s.weight[0], 1.0);
    EXPECT_THROW(select(b, {true}), InvalidInput);
}
