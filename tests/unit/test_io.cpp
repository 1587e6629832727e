// Feature tables to GeoPackage with QGIS styles, raster .qml sidecars, graduated styles.

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <cpl_minixml.h>
#include <gdal_priv.h>
#include <gtest/gtest.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include "streetsafe/error.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/io.hpp"
#include "support.hpp"

using namespace streetsafe;
using streetsafe::test::scratch_dir;

namespace {

struct DatasetCloser {
    void operator()(GDALDataset* ds) const { GDALClose(GDALDataset::ToHandle(ds)); }
};
using Dataset = std::unique_ptr<GDALDataset, DatasetCloser>;

Dataset open_gpkg(const std::string& path) {
    GDALAllRegister();
    return Dataset(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY));
}

struct XmlCloser {
    void operator()(CPLXMLNode* n) const { CPLDestroyXMLNode(n); }
};
using Xml = std::unique_ptr<CPLXMLNode, XmlCloser>;

/// The <qgis> element of a QML document (parsed with GDAL's XML parser, which rejects malformed XML).
Xml parse_qml(const std::string& text) {
    return Xml(CPLParseXMLString(text.c_str()));
}

const CPLXMLNode* qgis_root(const CPLXMLNode* doc) {
    for (const CPLXMLNode* n = doc; n != nullptr; n = n->psNext)
        if (n->eType == CXT_Element && std::string(n->pszValue) == "qgis") return n;
    return nullptr;
}

std::vector<const CPLXMLNode*> children(const CPLXMLNode* node, const std::string& name) {
    std::vector<const CPLXMLNode*> out;
    if (node == nullptr) return out;
    for (const CPLXMLNode* c = node->psChild; c != nullptr; c = c->psNext)
        if (c->eType == CXT_Element && name == c->pszValue) out.push_back(c);
    return out;
}

std::string attr(const CPLXMLNode* node, const char* name) {
    return CPLGetXMLValue(node, name, "");
}

std::vector<unsigned char> wkb_of(const std::string& wkt) {
    OGRGeometry* g = nullptr;
    EXPECT_EQ(OGRGeometryFactory::createFromWkt(wkt.c_str(), nullptr, &g), OGRERR_NONE) << wkt;
    std::vector<unsigned char> out(g->WkbSize());
    g->exportToWkb(wkbNDR, out.data(), wkbVariantIso);
    OGRGeometryFactory::destroyGeometry(g);
    return out;
}

std::string bng_wkt() {
    OGRSpatialReference srs;
    srs.importFromEPSG(27700);
    char* wkt = nullptr;
    srs.exportToWkt(&wkt);
    std::string out = wkt;
    CPLFree(wkt);
    return out;
}

/// Four polygons in British National Grid with a column of each type, including a NULL (NaN), a
/// quote and non-ASCII text.
FeatureTable sample_table() {
    FeatureTable t;
    t.crs_wkt = bng_wkt();
    t.wkb = {wkb_of("POLYGON ((530000 180000,530100 180000,530100 180100,530000 180100,530000 180000))"),
             wkb_of("POLYGON ((530100 180000,530200 180000,530200 180100,530100 180100,530100 180000))"),
             wkb_of("POLYGON ((530000 180100,530100 180100,530050 180180.25,530000 180100))"),
             wkb_of("POLYGON ((530200 180000,530300 180000,530300 180100,530200 180100,530200 180000),"
                    "(530220 180020,530240 180020,530240 180040,530220 180040,530220 180020))")};
    t.columns.push_back({"area_id", std::vector<std::string>{"a", "b'quote", "Ünïcødé – ok", "d"}});
    t.columns.push_back({"rate", std::vector<double>{1.5, std::nan(""), 3.25, 12.0}});
    t.columns.push_back({"count", std::vector<std::int64_t>{3, 0, 9'000'000'000LL, -2}});
    return t;
}

struct StyleRow {
    std::string table, geometry_column, name, qml, schema;
    int use_as_default = -1;
};

std::vector<StyleRow> style_rows(GDALDataset& ds) {
    std::vector<StyleRow> rows;
    OGRLayer* rs = ds.ExecuteSQL("SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault, "
                                 "f_table_schema FROM layer_styles "
                                 "ORDER BY id",
                                 nullptr, nullptr);
    if (rs == nullptr) return rows;
    for (auto& f : *rs)
        rows.push_back({f->GetFieldAsString(0), f->GetFieldAsString(1), f->GetFieldAsString(2),
                        f->GetFieldAsString(3), f->GetFieldAsString(5), f->GetFieldAsInteger(4)});
    ds.ReleaseResultSet(rs);
    return rows;
}

double type7_quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const double a = q * static_cast<double>(v.size() - 1);
    const auto k = static_cast<std::size_t>(std::floor(a));
    if (k + 1 >= v.size()) return v.back();
    return v[k] + (a - static_cast<double>(k)) * (v[k + 1] - v[k]);
}

} // namespace

TEST(Column, SizeOfEveryType) {
    EXPECT_EQ((Column{"a", std::vector<double>{1, 2, 3}}).size(), 3u);
    EXPECT_EQ((Column{"b", std::vector<std::int64_t>{1}}).size(), 1u);
    EXPECT_EQ((Column{"c", std::vector<std::string>{}}).size(), 0u);
}

TEST(FeatureTable, ValidateNamesTheBadColumn) {
    FeatureTable t = sample_table();
    EXPECT_NO_THROW(t.validate());
    t.columns.push_back({"short", std::vector<double>{1.0}});
    try {
        t.validate();
        FAIL() << "expected InvalidInput";
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("'short' has 1 values, expected 4"), std::string::npos)
            << e.what();
    }
    t.columns.back() = {"RATE", std::vector<double>(4, 1.0)};
    EXPECT_THROW(t.validate(), InvalidInput); // names are case-insensitive in SQLite
    t.columns.back() = {"geom", std::vector<double>(4, 1.0)};
    EXPECT_THROW(t.validate(), InvalidInput);
}

TEST(GraduatedStyle, BreaksAreQuantilesOfTheValues) {
    std::vector<double> values(101);
    std::iota(values.begin(), values.end(), 0.0);
    std::mt19937 rng(7);
    std::shuffle(values.begin(), values.end(), rng);
    for (auto& v : values)
        v = v * v / 10.0; // skewed, like rates
    std::vector<double> with_gaps = values;
    with_gaps.push_back(std::nan(""));
    with_gaps.push_back(INFINITY);
    const LayerStyle s = graduated_style("rate", with_gaps, 5, "per 1,000 residents");
    ASSERT_EQ(s.breaks.size(), 5u);
    for (int i = 1; i <= 5; ++i)
        EXPECT_DOUBLE_EQ(s.breaks[i - 1], type7_quantile(values, i / 5.0)) << i;
    EXPECT_DOUBLE_EQ(s.lower, 0.0);
    EXPECT_EQ(s.kind, LayerStyle::Kind::graduated);
    EXPECT_EQ(s.field, "rate");
    EXPECT_EQ(s.colours, (std::vector<std::string>{"#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"}));
    ASSERT_EQ(s.labels.size(), 5u);
    // 0, 40, 160, 360, 640, 1000: whole numbers need no decimals; 1,000 gets no separator below 10,000.
    EXPECT_EQ(s.labels[0], "0 \u2013 40 per 1,000 residents");
    EXPECT_EQ(s.labels[4], "640 \u2013 1000 per 1,000 residents");
    // Each class holds about a fifth of the values.
    for (std::size_t c = 0; c < 5; ++c) {
        const double lo = c == 0 ? -1 : s.breaks[c - 1];
        const auto in =
            std::count_if(values.begin(), values.end(), [&](double v) { return v > lo && v <= s.breaks[c]; });
        EXPECT_NEAR(static_cast<double>(in), 101.0 / 5.0, 1.5) << c;
    }
    EXPECT_NO_THROW(s.validate());
}

TEST(GraduatedStyle, TiesAreMergedIntoFewerClasses) {
    std::vector<double> values(100, 0.0);
    for (int i = 0; i < 20; ++i)
        values[static_cast<std::size_t>(i)] = 0.5 + i * 0.01;
    const LayerStyle s = graduated_style("rate", values, 5, "");
    // 80 % zeros: the 20, 40 and 60 % quantiles are all 0 and merge; the 80 % one interpolates
    // between the last zero and 0.5 (0.2 of the way), the last break is the maximum.
    ASSERT_EQ(s.breaks.size(), 3u);
    EXPECT_DOUBLE_EQ(s.breaks[0], 0.0);
    EXPECT_NEAR(s.breaks[1], 0.1, 1e-12);
    EXPECT_DOUBLE_EQ(s.breaks[2], 0.69);
    EXPECT_EQ(s.colours, (std::vector<std::string>{"#ffeda0", "#feb24c", "#f03b20"}));
    EXPECT_EQ(s.labels[0], "0.00 \u2013 0.00"); // decimals follow the smallest non-zero bound
    EXPECT_EQ(s.labels[2], "0.10 \u2013 0.69");
    EXPECT_TRUE(std::is_sorted(s.breaks.begin(), s.breaks.end()));

    const LayerStyle one = graduated_style("x", {4.0, 4.0, 4.0}, 5, "m");
    ASSERT_EQ(one.breaks.size(), 1u);
    EXPECT_EQ(one.labels[0], "4 \u2013 4 m");
    EXPECT_NO_THROW(one.validate());

    const LayerStyle many =
        graduated_style("x", std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 12, "");
    EXPECT_EQ(many.breaks.size(), 12u); // all distinct: 1.9166..., 2.8333..., ..., 12
    EXPECT_EQ(many.colours.front(), "#ffffcc");
    EXPECT_EQ(many.colours.back(), "#800026");

    EXPECT_THROW(graduated_style("x", {std::nan("")}, 5, ""), InvalidInput);
    EXPECT_THROW(graduated_style("x", {1.0}, 0, ""), InvalidInput);
}

TEST(GraduatedStyle, LabelsOfLargeAndSmallNumbers) {
    const LayerStyle big = graduated_style("pop", {12345.0, 23456.0, 345678.0}, 2, "residents");
    EXPECT_EQ(big.labels[0], "12,345 \u2013 23,456 residents");
    EXPECT_EQ(big.labels[1], "23,456 \u2013 345,678 residents");
    const LayerStyle small = graduated_style("d", {0.0012, 0.0015, 0.0034}, 2, "");
    EXPECT_EQ(small.labels[0], "0.0012 \u2013 0.0015");
}

TEST(LayerStyle, ValidateNamesTheField) {
    LayerStyle s = graduated_style("rate", {1, 2, 3, 4}, 2, "");
    s.colours[1] = "red";
    try {
        s.validate();
        FAIL();
    } catch (const InvalidInput& e) {
        EXPECT_NE(std::string(e.what()).find("colours[1]"), std::string::npos) << e.what();
    }
    s = graduated_style("rate", {1, 2, 3, 4}, 2, "");
    s.breaks = {3, 2};
    EXPECT_THROW(s.validate(), InvalidInput);
    s = graduated_style("rate", {1, 2, 3, 4}, 2, "");
    s.opacity = 1.5;
    EXPECT_THROW(s.validate(), InvalidInput);
    LayerStyle c{
        .kind = LayerStyle::Kind::categorized, .field = "k", .values = {"a", "b"}, .colours = {"#000000"}};
    EXPECT_THROW(c.validate(), InvalidInput);
}

TEST(WriteGpkgLayer, RoundTripKeepsGeometriesValuesAndCrs) {
    const auto dir = scratch_dir("gpkg_round_trip");
    const std::string path = (dir / "out.gpkg").string();
    const FeatureTable t = sample_table();
    const LayerStyle style =
        graduated_style("rate", std::get<std::vector<double>>(t.columns[1].values), 3, "per 1,000");
    write_gpkg_layer(path, "areas", t, style);

    Dataset ds = open_gpkg(path);
    ASSERT_TRUE(ds);
    EXPECT_STREQ(ds->GetDriverName(), "GPKG");
    OGRLayer* layer = ds->GetLayerByName("areas");
    ASSERT_NE(layer, nullptr);
    EXPECT_EQ(layer->GetFeatureCount(), 4);
    EXPECT_EQ(wkbFlatten(layer->GetGeomType()), wkbPolygon);
    EXPECT_STREQ(layer->GetGeometryColumn(), "geom");
    EXPECT_STREQ(layer->GetFIDColumn(), "fid");
    OGRSpatialReference bng;
    bng.importFromEPSG(27700);
    ASSERT_NE(layer->GetSpatialRef(), nullptr);
    EXPECT_TRUE(layer->GetSpatialRef()->IsSame(&bng));
    OGRFeatureDefn* defn = layer->GetLayerDefn();
    EXPECT_EQ(defn->GetFieldDefn(defn->GetFieldIndex("area_id"))->GetType(), OFTString);
    EXPECT_EQ(defn->GetFieldDefn(defn->GetFieldIndex("rate"))->GetType(), OFTReal);
    EXPECT_EQ(defn->GetFieldDefn(defn->GetFieldIndex("count"))->GetType(), OFTInteger64);

    const auto& ids = std::get<std::vector<std::string>>(t.columns[0].values);
    const auto& rates = std::get<std::vector<double>>(t.columns[1].values);
    const auto& counts = std::get<std::vector<std::int64_t>>(t.columns[2].values);
    std::size_t i = 0;
    layer->ResetReading();
    for (auto& f : *layer) {
        ASSERT_LT(i, 4u);
        const OGRGeometry* g = f->GetGeometryRef();
        ASSERT_NE(g, nullptr);
        std::vector<unsigned char> back(g->WkbSize());
        g->exportToWkb(wkbNDR, back.data(), wkbVariantIso);
        EXPECT_EQ(back, t.wkb[i]) << "feature " << i;
        EXPECT_EQ(std::string(f->GetFieldAsString("area_id")), ids[i]);
        if (std::isnan(rates[i]))
            EXPECT_TRUE(f->IsFieldNull(f->GetFieldIndex("rate")));
        else
            EXPECT_EQ(f->GetFieldAsDouble("rate"), rates[i]);
        EXPECT_EQ(f->GetFieldAsInteger64("count"), counts[i]);
        ++i;
    }
    EXPECT_EQ(i, 4u);
}

TEST(WriteGpkgLayer, StoresTheDefaultQgisStyle) {
    const auto dir = scratch_dir("gpkg_style");
    const std::string path = (dir / "out.gpkg").string();
    const FeatureTable t = sample_table();
    const LayerStyle style =
        graduated_style("rate", {0.5, 1.5, 2.5, 3.25, 7.0, 12.0}, 4, "per 1,000 <residents> & more");
    write_gpkg_layer(path, "areas", t, style);

    Dataset ds = open_gpkg(path);
    ASSERT_TRUE(ds);
    // QGIS finds layer_styles through gpkg_contents, as an attributes table.
    OGRLayer* contents = ds->ExecuteSQL(
        "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'", nullptr, nullptr);
    ASSERT_NE(contents, nullptr);
    std::unique_ptr<OGRFeature> c(contents->GetNextFeature());
    ASSERT_TRUE(c);
    EXPECT_STREQ(c->GetFieldAsString(0), "attributes");
    c.reset();
    ds->ReleaseResultSet(contents);
    ASSERT_NE(ds->GetLayerByName("layer_styles"), nullptr);
    // The columns QGIS reads and writes.
    OGRFeatureDefn* sd = ds->GetLayerByName("layer_styles")->GetLayerDefn();
    for (const char* col :
         {"f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
          "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"})
        EXPECT_GE(sd->GetFieldIndex(col), 0) << col;
    EXPECT_STREQ(ds->GetLayerByName("layer_styles")->GetFIDColumn(), "id");

    const auto rows = style_rows(*ds);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].table, "areas");
    EXPECT_EQ(rows[0].geometry_column, "geom");
    EXPECT_EQ(rows[0].schema, "");
    EXPECT_EQ(rows[0].use_as_default, 1);
    EXPECT_EQ(rows[0].name, style.title);

    const std::string& qml = rows[0].qml;
    EXPECT_NE(qml.find("<renderer-v2 type=\"graduatedSymbol\""), std::string::npos);
    Xml doc = parse_qml(qml);
    ASSERT_TRUE(doc) << "QML does not parse";
    const CPLXMLNode* root = qgis_root(doc.get());
    ASSERT_NE(root, nullptr);
    const auto renderers = children(root, "renderer-v2");
    ASSERT_EQ(renderers.size(), 1u);
    EXPECT_EQ(attr(renderers[0], "type"), "graduatedSymbol");
    EXPECT_EQ(attr(renderers[0], "attr"), "rate");
    const auto ranges = children(children(renderers[0], "ranges").at(0), "range");
    ASSERT_EQ(ranges.size(), style.breaks.size());
    for (std::size_t k = 0; k < ranges.size(); ++k) {
        const double lower = k == 0 ? style.lower : style.breaks[k - 1];
        EXPECT_NEAR(std::stod(attr(ranges[k], "lower")), lower, 1e-12) << k;
        EXPECT_NEAR(std::stod(attr(ranges[k], "upper")), style.breaks[k], 1e-12) << k;
        EXPECT_EQ(attr(ranges[k], "label"), style.labels[k]); // escaped & and < came back intact
        EXPECT_EQ(attr(ranges[k], "symbol"), std::to_string(k));
    }
    const auto symbols = children(children(renderers[0], "symbols").at(0), "symbol");
    ASSERT_EQ(symbols.size(), style.breaks.size());
    EXPECT_EQ(attr(symbols[0], "type"), "fill");
    const std::string first = qml.substr(qml.find("name=\"color\""), 60);
    EXPECT_NE(first.find("255,255,178,255"), std::string::npos) << first; // #ffffb2
    EXPECT_EQ(std::string(CPLGetXMLValue(root, "layerOpacity", "")), "1");
}

TEST(WriteGpkgLayer, OverwriteReplacesLayerAndStyle) {
    const auto dir = scratch_dir("gpkg_overwrite");
    const std::string path = (dir / "out.gpkg").string();
    FeatureTable t = sample_table();
    write_gpkg_layer(path, "areas", t, graduated_style("rate", {1, 2, 3, 4, 5, 6}, 3, ""));
    // A second layer, which must keep its own style.
    write_gpkg_layer(path, "other", t, LayerStyle{.kind = LayerStyle::Kind::single, .colours = {"#336699"}});

    FeatureTable smaller = t;
    smaller.wkb.resize(2);
    for (auto& c : smaller.columns)
        std::visit([](auto& v) { v.resize(2); }, c.values);
    const LayerStyle five = graduated_style("rate", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5, "");
    write_gpkg_layer(path, "areas", smaller, five);

    Dataset ds = open_gpkg(path);
    ASSERT_TRUE(ds);
    EXPECT_EQ(ds->GetLayerByName("areas")->GetFeatureCount(), 2);
    EXPECT_EQ(ds->GetLayerByName("other")->GetFeatureCount(), 4);
    const auto rows = style_rows(*ds);
    ASSERT_EQ(rows.size(), 2u);
    int areas_rows = 0;
    for (const auto& r : rows) {
        EXPECT_EQ(r.use_as_default, 1);
        if (r.table == "areas") {
            ++areas_rows;
            Xml doc = parse_qml(r.qml);
            ASSERT_TRUE(doc);
            const auto renderer = children(qgis_root(doc.get()), "renderer-v2").at(0);
            EXPECT_EQ(children(children(renderer, "ranges").at(0), "range").size(), 5u);
        } else {
            EXPECT_NE(r.qml.find("<renderer-v2 type=\"singleSymbol\""), std::string::npos);
            EXPECT_NE(r.qml.find("51,102,153,255"), std::string::npos); // #336699
        }
    }
    EXPECT_EQ(areas_rows, 1);

    // A style with another title replaces the earlier one: a replaced layer keeps no stale style.
    LayerStyle renamed = five;
    renamed.title = "Second look";
    write_gpkg_layer(path, "areas", smaller, renamed);
    ds = open_gpkg(path);
    int defaults = 0, total = 0;
    for (const auto& r : style_rows(*ds)) {
        if (r.table != "areas") continue;
        ++total;
        if (r.use_as_default == 1) {
            ++defaults;
            EXPECT_EQ(r.name, "Second look");
        }
    }
    EXPECT_EQ(total, 1);
    EXPECT_EQ(defaults, 1);
}

TEST(WriteGpkgLayer, CategorizedPointsSingleLinesAndMixedMultiPolygons) {
    const auto dir = scratch_dir("gpkg_kinds");
    const std::string path = (dir / "kinds.gpkg").string();
    FeatureTable points;
    points.crs_wkt = bng_wkt();
    points.wkb = {wkb_of("POINT (530000 180000)"), wkb_of("POINT (530010 180010)")};
    points.columns.push_back({"bin", std::vector<std::int64_t>{-1, 2}});
    const LayerStyle categories{.kind = LayerStyle::Kind::categorized,
                                .field = "bin",
                                .labels = {"Cold spot", "Hot spot, 95 %"},
                                .values = {"-1", "2"},
                                .colours = {"#4575b5", "#d62f27"}};
    write_gpkg_layer(path, "points", points, categories);

    FeatureTable lines;
    lines.crs_wkt = bng_wkt();
    lines.wkb = {wkb_of("LINESTRING (530000 180000,530100 180100)")};
    write_gpkg_layer(path, "lines", lines, LayerStyle{.kind = LayerStyle::Kind::single});

    FeatureTable mixed;
    mixed.crs_wkt = bng_wkt();
    mixed.wkb = {wkb_of("POLYGON ((0 0,1 0,1 1,0 0))"),
                 wkb_of("MULTIPOLYGON (((2 2,3 2,3 3,2 2)),((5 5,6 5,6 6,5 5)))"),
                 {}};
    mixed.columns.push_back({"v", std::vector<double>{1, 2, 3}});
    write_gpkg_layer(path, "mixed", mixed, graduated_style("v", {1, 2, 3}, 2, ""));

    Dataset ds = open_gpkg(path);
    ASSERT_TRUE(ds);
    EXPECT_EQ(wkbFlatten(ds->GetLayerByName("points")->GetGeomType()), wkbPoint);
    EXPECT_EQ(wkbFlatten(ds->GetLayerByName("lines")->GetGeomType()), wkbLineString);
    OGRLayer* m = ds->GetLayerByName("mixed");
    EXPECT_EQ(wkbFlatten(m->GetGeomType()), wkbMultiPolygon);
    std::unique_ptr<OGRFeature> f(m->GetNextFeature());
    ASSERT_TRUE(f);
    EXPECT_EQ(wkbFlatten(f->GetGeometryRef()->getGeometryType()), wkbMultiPolygon); // promoted
    f.reset(m->GetFeature(3));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->GetGeometryRef(), nullptr); // empty WKB = NULL geometry
    for (const auto& r : style_rows(*ds)) {
        Xml doc = parse_qml(r.qml);
        ASSERT_TRUE(doc) << r.table;
        const auto renderer = children(qgis_root(doc.get()), "renderer-v2").at(0);
        if (r.table == "points") {
            EXPECT_EQ(attr(renderer, "type"), "categorizedSymbol");
            const auto cats = children(children(renderer, "categories").at(0), "category");
            ASSERT_EQ(cats.size(), 2u);
            EXPECT_EQ(attr(cats[1], "value"), "2");
            EXPECT_EQ(attr(cats[1], "label"), "Hot spot, 95 %");
            EXPECT_EQ(attr(children(children(renderer, "symbols").at(0), "symbol").at(0), "type"), "marker");
        } else if (r.table == "lines") {
            EXPECT_EQ(attr(renderer, "type"), "singleSymbol");
            EXPECT_EQ(attr(children(children(renderer, "symbols").at(0), "symbol").at(0), "type"), "line");
        } else {
            EXPECT_EQ(attr(renderer, "type"), "graduatedSymbol");
        }
    }
}

TEST(WriteGpkgLayer, QuotesInNamesAndErrorsLeaveTheFileAlone) {
    const auto dir = scratch_dir("gpkg_errors");
    const std::string path = (dir / "q.gpkg").string();
    FeatureTable t = sample_table();
    LayerStyle style = graduated_style("rate", {1, 2, 3}, 2, "");
    style.title = "Rates 'quoted'; DROP TABLE layer_styles; --";
    write_gpkg_layer(path, "o'brien", t, style);
    {
        Dataset ds = open_gpkg(path);
        ASSERT_TRUE(ds);
        ASSERT_NE(ds->GetLayerByName("o'brien"), nullptr);
        const auto rows = style_rows(*ds);
        ASSERT_EQ(rows.size(), 1u);
        EXPECT_EQ(rows[0].table, "o'brien");
        EXPECT_EQ(rows[0].name, style.title);
    }
    // Bad WKB: InvalidInput, and the existing file is unchanged.
    FeatureTable bad = t;
    bad.wkb[1] = {1, 2, 3};
    EXPECT_THROW(write_gpkg_layer(path, "o'brien", bad, style), InvalidInput);
    {
        Dataset ds = open_gpkg(path);
        EXPECT_EQ(ds->GetLayerByName("o'brien")->GetFeatureCount(), 4);
    }
    // No new file is left behind when writing fails.
    const std::string fresh = (dir / "fresh.gpkg").string();
    EXPECT_THROW(write_gpkg_layer(fresh, "x", bad, style), InvalidInput);
    EXPECT_FALSE(std::filesystem::exists(fresh));
    EXPECT_THROW(write_gpkg_layer((dir / "missing" / "x.gpkg").string(), "x", t, style), IoError);
    EXPECT_THROW(write_gpkg_layer((dir / "x.shp").string(), "x", t, style), InvalidInput);
    // A file that is not a GeoPackage is not overwritten.
    const std::string text = (dir / "text.gpkg").string();
    std::ofstream(text) << "not a geopackage";
    EXPECT_THROW(write_gpkg_layer(text, "x", t, style), IoError);
}

TEST(WriteRasterQml, SidecarBesideTheRaster) {
    const auto dir = scratch_dir("raster_qml");
    Grid g = Grid::covering({530000, 180000, 530100, 180100}, 10, bng_wkt());
    for (std::size_t i = 0; i < g.values.size(); ++i)
        g.values[i] = static_cast<double>(i % 17);
    g.values[3] = g.nodata;
    const std::string tif = (dir / "kde.density.tif").string();
    write_geotiff(g, tif);
    LayerStyle style = graduated_style("density", g.values, 5, "per km²");
    style.opacity = 0.8;
    const std::string qml_path = write_raster_qml(tif, style);
    EXPECT_EQ(qml_path, (dir / "kde.density.qml").string());
    std::ifstream in(qml_path);
    std::stringstream text;
    text << in.rdbuf();
    const std::string qml = text.str();
    Xml doc = parse_qml(qml);
    ASSERT_TRUE(doc) << qml;
    const CPLXMLNode* root = qgis_root(doc.get());
    ASSERT_NE(root, nullptr);
    const CPLXMLNode* renderer = CPLGetXMLNode(const_cast<CPLXMLNode*>(root), "pipe.rasterrenderer");
    ASSERT_NE(renderer, nullptr);
    EXPECT_EQ(attr(renderer, "type"), "singlebandpseudocolor");
    EXPECT_EQ(attr(renderer, "band"), "1");
    EXPECT_EQ(attr(renderer, "opacity"), "0.8");
    EXPECT_EQ(attr(renderer, "nodataColor"), ""); // nodata transparent
    const CPLXMLNode* shader =
        CPLGetXMLNode(const_cast<CPLXMLNode*>(renderer), "rastershader.colorrampshader");
    ASSERT_NE(shader, nullptr);
    EXPECT_EQ(attr(shader, "colorRampType"), "DISCRETE");
    const auto items = children(shader, "item");
    ASSERT_EQ(items.size(), style.breaks.size());
    for (std::size_t k = 0; k + 1 < items.size(); ++k) {
        EXPECT_DOUBLE_EQ(std::stod(attr(items[k], "value")), style.breaks[k]);
        EXPECT_EQ(attr(items[k], "color"), style.colours[k]);
        EXPECT_EQ(attr(items[k], "label"), style.labels[k]);
    }
    EXPECT_EQ(attr(items.back(), "value"), "inf"); // nothing above the last break goes blank

    style.interpolate = true;
    write_raster_qml(tif, style);
    std::ifstream again(qml_path);
    std::stringstream text2;
    text2 << again.rdbuf();
    Xml doc2 = parse_qml(text2.str());
    const CPLXMLNode* shader2 = CPLGetXMLNode(const_cast<CPLXMLNode*>(qgis_root(doc2.get())),
                                              "pipe.rasterrenderer.rastershader.colorrampshader");
    ASSERT_NE(shader2, nullptr);
    EXPECT_EQ(attr(shader2, "colorRampType"), "INTERPOLATED");
    EXPECT_DOUBLE_EQ(std::stod(attr(children(shader2, "item").back(), "value")), style.breaks.back());

    const LayerStyle classes{.kind = LayerStyle::Kind::categorized,
                             .field = "band 1",
                             .values = {"-3", "0", "3"},
                             .colours = {"#4575b5", "#ffffbf", "#d62f27"}};
    write_raster_qml(tif, classes);
    std::ifstream third(qml_path);
    std::stringstream text3;
    text3 << third.rdbuf();
    const std::string paletted = text3.str();
    EXPECT_NE(paletted.find("type=\"paletted\""), std::string::npos);
    EXPECT_EQ(std::count(paletted.begin(), paletted.end(), '<') -
                  std::count(paletted.begin(), paletted.end(), '>'),
              0);
    EXPECT_TRUE(parse_qml(paletted));

    EXPECT_THROW(write_raster_qml(tif, LayerStyle{.kind = LayerStyle::Kind::single}), InvalidInput);
    EXPECT_THROW(write_raster_qml((dir / "missing" / "x.tif").string(), style), IoError);
}

TEST(VectorStyleQml, RejectsUnknownGeometryType) {
    EXPECT_THROW(vector_style_qml(LayerStyle{.kind = LayerStyle::Kind::single}, "surface"), InvalidInput);
    const std::string qml = vector_style_qml(LayerStyle{.kind = LayerStyle::Kind::single}, "point");
    EXPECT_NE(qml.find("type=\"marker\""), std::string::npos);
}
