// Writes the styled layers that tests/python/test_qgis_styles.py opens with QGIS' own Python:
// a GeoPackage with a graduated polygon layer, a categorized point layer and a single-symbol line
// layer (styles in layer_styles), and a GeoTIFF with a .qml sidecar. All in EPSG:27700.
//
// Usage: streetsafe_style_samples <output directory>
// Prints a JSON summary of what was written (paths, renderer types, class counts and breaks).

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "streetsafe/crs.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/io.hpp"

namespace {

/// Little-endian ISO WKB of a polygon ring or a point / line, written by hand so that the tool
/// needs nothing but streetsafe.
struct Wkb {
    std::vector<unsigned char> bytes;
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            bytes.push_back(static_cast<unsigned char>((v >> (8 * i)) & 0xff));
    }
    void f64(double v) {
        unsigned char b[8];
        std::memcpy(b, &v, 8);
        bytes.insert(bytes.end(), b, b + 8);
    }
};

std::vector<unsigned char> square(double x0, double y0, double side) {
    Wkb w;
    w.bytes.push_back(1);
    w.u32(3); // Polygon
    w.u32(1);
    w.u32(5);
    const double xs[] = {x0, x0 + side, x0 + side, x0, x0};
    const double ys[] = {y0, y0, y0 + side, y0 + side, y0};
    for (int i = 0; i < 5; ++i)
        w.f64(xs[i]), w.f64(ys[i]);
    return w.bytes;
}

std::vector<unsigned char> point(double x, double y) {
    Wkb w;
    w.bytes.push_back(1);
    w.u32(1);
    w.f64(x), w.f64(y);
    return w.bytes;
}

std::vector<unsigned char> line(double x0, double y0, double x1, double y1) {
    Wkb w;
    w.bytes.push_back(1);
    w.u32(2);
    w.u32(2);
    w.f64(x0), w.f64(y0), w.f64(x1), w.f64(y1);
    return w.bytes;
}

/// A JSON string literal.
std::string json_text(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string json_list(const std::vector<double>& v) {
    std::string out = "[";
    char buf[64];
    for (std::size_t i = 0; i < v.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%.17g", v[i]);
        out += (i ? ", " : "") + std::string(buf);
    }
    return out + "]";
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: streetsafe_style_samples <output directory>\n";
        return 2;
    }
    try {
        namespace ss = streetsafe;
        const std::filesystem::path dir = argv[1];
        std::filesystem::create_directories(dir);
        const std::string wkt = ss::resolve_crs("EPSG:27700").wkt;

        // 20 squares of 100 m in Hammersmith, rates skewed like real ones.
        ss::FeatureTable areas;
        areas.crs_wkt = wkt;
        std::vector<std::string> ids;
        std::vector<double> rates;
        std::vector<std::int64_t> counts;
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 5; ++c) {
                const int k = r * 5 + c;
                areas.wkb.push_back(square(523000 + 100.0 * c, 178500 + 100.0 * r, 100));
                ids.push_back("sq" + std::to_string(k));
                rates.push_back(0.4 * k * k / 10.0 + 0.25 * k);
                counts.push_back(k * 3);
            }
        rates[7] = std::nan(""); // an area without population
        areas.columns.push_back({"area_id", ids});
        areas.columns.push_back({"rate_per_1000", rates});
        areas.columns.push_back({"incidents", counts});
        const ss::LayerStyle graduated =
            ss::graduated_style("rate_per_1000", rates, 5, "per 1,000 residents");
        const std::string gpkg = (dir / "samples.gpkg").string();
        std::filesystem::remove(gpkg);
        ss::write_gpkg_layer(gpkg, "rates", areas, graduated);

        ss::FeatureTable spots;
        spots.crs_wkt = wkt;
        std::vector<std::int64_t> bins;
        for (int k = 0; k < 7; ++k) {
            spots.wkb.push_back(point(523050 + 60.0 * k, 178550));
            bins.push_back(k - 3);
        }
        spots.columns.push_back({"gi_bin", bins});
        const ss::LayerStyle categorized{
            .kind = ss::LayerStyle::Kind::categorized,
            .field = "gi_bin",
            .labels = {"Cold 99 %", "Cold 95 %", "Cold 90 %", "Not significant", "Hot 90 %", "Hot 95 %",
                       "Hot 99 %"},
            .values = {"-3", "-2", "-1", "0", "1", "2", "3"},
            .colours = {"#4575b5", "#849eba", "#c0ccbe", "#ffffbf", "#fab984", "#ed7551", "#d62f27"},
            .title = "Gi* bins"};
        ss::write_gpkg_layer(gpkg, "hotspots", spots, categorized);

        ss::FeatureTable routes;
        routes.crs_wkt = wkt;
        routes.wkb = {line(523000, 178500, 523500, 178900)};
        routes.columns.push_back({"name", std::vector<std::string>{"to school"}});
        ss::write_gpkg_layer(gpkg, "routes", routes,
                             ss::LayerStyle{.kind = ss::LayerStyle::Kind::single, .colours = {"#2b8cbe"}});

        // A density raster with nodata cells and its sidecar.
        ss::Grid grid = ss::Grid::covering({523000, 178500, 523500, 178900}, 25, wkt);
        for (std::size_t r = 0; r < grid.rows; ++r)
            for (std::size_t c = 0; c < grid.cols; ++c) {
                const double dx = grid.centre_x(c) - 523250, dy = grid.centre_y(r) - 178700;
                grid.at(r, c) = 1000.0 * std::exp(-(dx * dx + dy * dy) / (2 * 120.0 * 120.0));
            }
        grid.at(0, 0) = grid.nodata;
        grid.units = "incidents per km2";
        const std::string tif = (dir / "density.tif").string();
        ss::write_geotiff(grid, tif);
        ss::LayerStyle raster_style = ss::graduated_style("density", grid.values, 6, "per km²");
        raster_style.opacity = 0.75;
        const std::string qml = ss::write_raster_qml(tif, raster_style);

        std::cout << "{\n"
                  << "  \"gpkg\": " << json_text(gpkg) << ",\n"
                  << "  \"rates_classes\": " << graduated.breaks.size() << ",\n"
                  << "  \"rates_lower\": " << json_list({graduated.lower}) << ",\n"
                  << "  \"rates_breaks\": " << json_list(graduated.breaks) << ",\n"
                  << "  \"hotspots_categories\": " << categorized.values.size() << ",\n"
                  << "  \"raster\": " << json_text(tif) << ",\n"
                  << "  \"raster_qml\": " << json_text(qml) << ",\n"
                  << "  \"raster_classes\": " << raster_style.breaks.size() << ",\n"
                  << "  \"raster_breaks\": " << json_list(raster_style.breaks) << ",\n"
                  << "  \"raster_opacity\": 0.75\n"
                  << "}\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "streetsafe_style_samples: " << e.what() << "\n";
        return 1;
    }
}
