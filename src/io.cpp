// Feature tables to GeoPackage layers, with QGIS styles stored in the GeoPackage (layer_styles)
// or beside rasters (.qml sidecars).
//
// The QML written here follows what QGIS 3.22 writes itself: symbol layers carry both the
// <Option type="Map"> form (read by QGIS >= 3.16) and the <prop k v> form (read by older 3.x), so
// that every QGIS 3 opens the layers styled.

#include "streetsafe/io.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include "gdal_util.hpp"
#include "streetsafe/error.hpp"

namespace streetsafe {

std::size_t Column::size() const {
    return std::visit([](const auto& v) { return v.size(); }, values);
}

namespace {

std::string lower_case(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

} // namespace

void FeatureTable::validate() const {
    std::set<std::string> seen;
    for (const auto& c : columns) {
        if (c.name.empty()) throw InvalidInput("FeatureTable: a column has an empty name");
        const std::string key = lower_case(c.name);
        if (key == "fid" || key == "geom")
            throw InvalidInput("FeatureTable: column '" + c.name +
                               "' clashes with the GeoPackage key or geometry column; rename it");
        if (!seen.insert(key).second)
            throw InvalidInput("FeatureTable: column '" + c.name +
                               "' appears twice (names are case-insensitive)");
        if (c.size() != wkb.size())
            throw InvalidInput("FeatureTable: column '" + c.name + "' has " + std::to_string(c.size()) +
                               " values, expected " + std::to_string(wkb.size()) + " (one per geometry)");
    }
}

// ---------------------------------------------------------------------------------------------
// Colours, numbers, text

namespace {

struct Rgb {
    int r = 0, g = 0, b = 0;
};

std::optional<Rgb> parse_colour(const std::string& text) {
    if (text.size() != 7 || text[0] != '#') return std::nullopt;
    Rgb c;
    int* parts[] = {&c.r, &c.g, &c.b};
    for (int i = 0; i < 3; ++i) {
        int v = 0;
        for (int j = 0; j < 2; ++j) {
            const char ch = static_cast<char>(std::tolower(static_cast<unsigned char>(text[1 + 2 * i + j])));
            int d = 0;
            if (ch >= '0' && ch <= '9')
                d = ch - '0';
            else if (ch >= 'a' && ch <= 'f')
                d = ch - 'a' + 10;
            else
                return std::nullopt;
            v = v * 16 + d;
        }
        *parts[i] = v;
    }
    return c;
}

std::string hex(const Rgb& c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
    return buf;
}

/// "r,g,b,a" as QGIS writes colours in symbol properties.
std::string qgis_rgba(const std::string& colour, double alpha = 1.0) {
    const Rgb c = parse_colour(colour).value_or(Rgb{128, 128, 128});
    return std::to_string(c.r) + "," + std::to_string(c.g) + "," + std::to_string(c.b) + "," +
           std::to_string(static_cast<int>(std::lround(std::clamp(alpha, 0.0, 1.0) * 255.0)));
}

/// ColorBrewer YlOrRd (Cynthia Brewer, Mark Harrower, Penn State; Apache-2.0 style licence), 3–9
/// classes, as published.
const std::vector<std::vector<const char*>>& ylorrd_schemes() {
    static const std::vector<std::vector<const char*>> schemes = {
        {"#ffeda0", "#feb24c", "#f03b20"},
        {"#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"},
        {"#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"},
        {"#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"},
        {"#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"},
        {"#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"},
        {"#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"},
    };
    return schemes;
}

/// n colours from pale yellow to dark red: ColorBrewer's scheme for 3–9, its ends for 2, its middle
/// for 1, and evenly spaced RGB interpolation along the 9-class scheme beyond 9.
std::vector<std::string> ylorrd(std::size_t n) {
    const auto& schemes = ylorrd_schemes();
    if (n == 0) return {};
    if (n == 1) return {"#fd8d3c"};
    if (n == 2) return {"#ffeda0", "#f03b20"};
    if (n <= 9) return {schemes[n - 3].begin(), schemes[n - 3].end()};
    const auto& nine = schemes.back();
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / static_cast<double>(n - 1) * 8.0;
        const auto k = std::min<std::size_t>(static_cast<std::size_t>(t), 7);
        const double f = t - static_cast<double>(k);
        const Rgb a = *parse_colour(nine[k]);
        const Rgb b = *parse_colour(nine[k + 1]);
        auto mix = [f](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * f)); };
        out.push_back(hex({mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)}));
    }
    return out;
}

/// Fixed-point with `decimals`, thousands separated by commas from 10,000 up.
std::string format_number(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    if (s == "-0" || (s.rfind("-0.", 0) == 0 && s.find_first_not_of("-0.") == std::string::npos))
        s.erase(0, 1);
    const std::size_t start = (s[0] == '-') ? 1 : 0;
    std::size_t dot = s.find('.');
    if (dot == std::string::npos) dot = s.size();
    const std::size_t digits = dot - start;
    if (digits < 5) return s;
    std::string out = s.substr(0, start);
    for (std::size_t i = 0; i < digits; ++i) {
        if (i > 0 && (digits - i) % 3 == 0) out += ',';
        out += s[start + i];
    }
    return out + s.substr(dot);
}

/// The fewest decimals (0–6) that print every bound distinctly, and, unless all bounds are whole
/// numbers (counts), at least two significant digits for the smallest non-zero one.
int label_decimals(const std::vector<double>& bounds) {
    double smallest = 0;
    for (double b : bounds)
        if (b != 0 && (smallest == 0 || std::abs(b) < smallest)) smallest = std::abs(b);
    const bool integers =
        std::all_of(bounds.begin(), bounds.end(), [](double b) { return b == std::floor(b); });
    int d = 0;
    if (!integers && smallest > 0 && smallest < 10)
        d = std::clamp(1 - static_cast<int>(std::floor(std::log10(smallest))), 0, 6);
    for (; d < 6; ++d) {
        bool distinct = true;
        for (std::size_t i = 1; i < bounds.size() && distinct; ++i)
            distinct =
                bounds[i - 1] == bounds[i] || format_number(bounds[i - 1], d) != format_number(bounds[i], d);
        if (distinct) break;
    }
    return d;
}

/// Doubles as QGIS writes range bounds: 15 decimals, which round-trip every value of interest.
std::string qgis_double(double v) {
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.15f", v);
    return buf;
}

/// Shortest text that reads back as the same double.
std::string exact_double(double v) {
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buf[64];
    for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

/// Text for an XML attribute or element.
std::string xml(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '\n':
            out += "&#10;";
            break;
        case '\r':
            out += "&#13;";
            break;
        case '\t':
            out += "&#9;";
            break;
        default:
            // Other control characters are not allowed in XML 1.0 at all.
            if (static_cast<unsigned char>(c) >= 0x20) out += c;
        }
    }
    return out;
}

/// A string literal for SQLite: quotes doubled, refusing NUL (which would cut the statement).
std::string sql_text(const std::string& s) {
    if (s.find('\0') != std::string::npos)
        throw InvalidInput("text for the GeoPackage contains a NUL character");
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "''";
        else
            out += c;
    }
    return out + "'";
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Styles

void LayerStyle::validate() const {
    auto fail = [this](const std::string& what) {
        throw InvalidInput("LayerStyle" + (title.empty() ? std::string() : " '" + title + "'") + ": " + what);
    };
    if (!(opacity >= 0.0 && opacity <= 1.0)) fail("opacity " + exact_double(opacity) + " is outside [0, 1]");
    for (std::size_t i = 0; i < colours.size(); ++i)
        if (!parse_colour(colours[i]))
            fail("colours[" + std::to_string(i) + "] '" + colours[i] + "' is not #rrggbb");
    switch (kind) {
    case Kind::graduated:
        if (field.empty()) fail("field is empty; a graduated style needs the attribute it classifies");
        if (breaks.empty()) fail("breaks is empty; a graduated style needs at least one class");
        if (colours.size() != breaks.size())
            fail("colours has " + std::to_string(colours.size()) + " entries, expected one per break (" +
                 std::to_string(breaks.size()) + ")");
        if (!labels.empty() && labels.size() != breaks.size())
            fail("labels has " + std::to_string(labels.size()) +
                 " entries, expected none or one per break (" + std::to_string(breaks.size()) + ")");
        for (std::size_t i = 0; i < breaks.size(); ++i) {
            if (!std::isfinite(breaks[i])) fail("breaks[" + std::to_string(i) + "] is not finite");
            if (i > 0 && !(breaks[i] > breaks[i - 1]))
                fail("breaks are not strictly ascending at " + std::to_string(i));
        }
        if (!std::isnan(lower) && !(lower <= breaks.front()))
            fail("lower " + exact_double(lower) + " is above the first break " +
                 exact_double(breaks.front()));
        break;
    case Kind::categorized:
        if (field.empty()) fail("field is empty; a categorized style needs the attribute it colours by");
        if (values.empty()) fail("values is empty; a categorized style needs at least one category");
        if (colours.size() != values.size())
            fail("colours has " + std::to_string(colours.size()) + " entries, expected one per value (" +
                 std::to_string(values.size()) + ")");
        if (!labels.empty() && labels.size() != values.size())
            fail("labels has " + std::to_string(labels.size()) +
                 " entries, expected none or one per value (" + std::to_string(values.size()) + ")");
        break;
    case Kind::single:
        if (colours.size() > 1) fail("a single-symbol style takes at most one colour");
        break;
    }
}

LayerStyle graduated_style(const std::string& field, std::vector<double> values, int classes,
                           const std::string& unit) {
    if (classes < 1)
        throw InvalidInput("graduated_style: classes must be at least 1, got " + std::to_string(classes));
    std::erase_if(values, [](double v) { return !std::isfinite(v); });
    if (values.empty())
        throw InvalidInput("graduated_style: '" + field + "' has no finite value to classify");
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();

    // QGIS' QgsClassificationQuantile: linear interpolation between order statistics.
    std::vector<double> breaks;
    for (int i = 1; i < classes; ++i) {
        const double q = static_cast<double>(i) / static_cast<double>(classes);
        const double a = q * static_cast<double>(n - 1);
        const auto k = static_cast<std::size_t>(a);
        const double r = a - static_cast<double>(k);
        const double v = k + 1 < n ? (1 - r) * values[k] + r * values[k + 1] : values[n - 1];
        if (breaks.empty() || v > breaks.back()) breaks.push_back(v);
    }
    if (breaks.empty() || values.back() > breaks.back()) breaks.push_back(values.back());

    LayerStyle style;
    style.kind = LayerStyle::Kind::graduated;
    style.field = field;
    style.breaks = breaks;
    style.lower = values.front();
    style.colours = ylorrd(breaks.size());
    style.title = field + " (quantiles)";
    std::vector<double> bounds{style.lower};
    bounds.insert(bounds.end(), breaks.begin(), breaks.end());
    const int d = label_decimals(bounds);
    const std::string suffix = unit.empty() ? std::string() : " " + unit;
    for (std::size_t i = 0; i < breaks.size(); ++i)
        style.labels.push_back(format_number(bounds[i], d) + " \u2013 " + format_number(bounds[i + 1], d) +
                               suffix);
    return style;
}

// ---------------------------------------------------------------------------------------------
// QML documents

namespace {

constexpr const char* qml_doctype = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n";
constexpr const char* qml_version = "3.22.16-Białowieża";

using Props = std::vector<std::pair<std::string, std::string>>;

void write_props(std::ostringstream& o, const Props& props, const std::string& indent) {
    o << indent << "<Option type=\"Map\">\n";
    for (const auto& [k, v] : props)
        o << indent << "  <Option type=\"QString\" name=\"" << xml(k) << "\" value=\"" << xml(v) << "\"/>\n";
    o << indent << "</Option>\n";
    for (const auto& [k, v] : props)
        o << indent << "<prop k=\"" << xml(k) << "\" v=\"" << xml(v) << "\"/>\n";
}

/// One QGIS symbol (`fill`, `line` or `marker`) of one simple symbol layer in `colour`.
void write_symbol(std::ostringstream& o, const std::string& name, const std::string& symbol_type,
                  const std::string& colour, const std::string& indent) {
    const std::string rgba = qgis_rgba(colour);
    o << indent << "<symbol type=\"" << symbol_type << "\" name=\"" << xml(name)
      << "\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n";
    Props props;
    std::string cls;
    if (symbol_type == "fill") {
        cls = "SimpleFill";
        props = {{"border_width_map_unit_scale", "3x:0,0,0,0,0,0"},
                 {"color", rgba},
                 {"joinstyle", "bevel"},
                 {"offset", "0,0"},
                 {"offset_map_unit_scale", "3x:0,0,0,0,0,0"},
                 {"offset_unit", "MM"},
                 {"outline_color", "110,110,110,255"},
                 {"outline_style", "solid"},
                 {"outline_width", "0.2"},
                 {"outline_width_unit", "MM"},
                 {"style", "solid"}};
    } else if (symbol_type == "line") {
        cls = "SimpleLine";
        props = {{"capstyle", "round"},   {"joinstyle", "round"}, {"line_color", rgba},
                 {"line_style", "solid"}, {"line_width", "0.66"}, {"line_width_unit", "MM"},
                 {"offset", "0"},         {"offset_unit", "MM"}};
    } else {
        cls = "SimpleMarker";
        props = {{"angle", "0"},
                 {"color", rgba},
                 {"joinstyle", "bevel"},
                 {"name", "circle"},
                 {"offset", "0,0"},
                 {"offset_unit", "MM"},
                 {"outline_color", "50,50,50,255"},
                 {"outline_style", "solid"},
                 {"outline_width", "0.2"},
                 {"outline_width_unit", "MM"},
                 {"scale_method", "diameter"},
                 {"size", "2.4"},
                 {"size_unit", "MM"},
                 {"vertical_anchor_point", "1"},
                 {"horizontal_anchor_point", "1"}};
    }
    o << indent << "  <layer class=\"" << cls << "\" enabled=\"1\" locked=\"0\" pass=\"0\">\n";
    write_props(o, props, indent + "    ");
    o << indent << "  </layer>\n";
    o << indent << "</symbol>\n";
}

/// A gradient colour ramp through `colours`, so that QGIS' "Classify" keeps the scheme.
void write_colour_ramp(std::ostringstream& o, const std::vector<std::string>& colours,
                       const std::string& indent) {
    if (colours.empty()) return;
    std::string stops;
    for (std::size_t i = 1; i + 1 < colours.size(); ++i) {
        if (!stops.empty()) stops += ":";
        stops += exact_double(static_cast<double>(i) / static_cast<double>(colours.size() - 1)) + ";" +
                 qgis_rgba(colours[i]);
    }
    o << indent << "<colorramp type=\"gradient\" name=\"[source]\">\n";
    Props props{{"color1", qgis_rgba(colours.front())},
                {"color2", qgis_rgba(colours.back())},
                {"discrete", "0"},
                {"rampType", "gradient"}};
    if (!stops.empty()) props.emplace_back("stops", stops);
    write_props(o, props, indent + "  ");
    o << indent << "</colorramp>\n";
}

std::string label_of(const LayerStyle& s, std::size_t i, const std::string& fallback) {
    return i < s.labels.size() ? s.labels[i] : fallback;
}

std::string graduated_lower(const LayerStyle& s) {
    // An open first class: QGIS has no -inf range bound, the lowest double serves.
    return std::isnan(s.lower) ? qgis_double(-std::numeric_limits<double>::max()) : qgis_double(s.lower);
}

} // namespace

std::string vector_style_qml(const LayerStyle& style, const std::string& geometry_type) {
    style.validate();
    std::string symbol_type;
    if (geometry_type == "polygon")
        symbol_type = "fill";
    else if (geometry_type == "line")
        symbol_type = "line";
    else if (geometry_type == "point")
        symbol_type = "marker";
    else
        throw InvalidInput("vector_style_qml: geometry type '" + geometry_type +
                           "' is not polygon, line or point");

    std::ostringstream o;
    o << qml_doctype;
    o << "<qgis version=\"" << qml_version << "\" styleCategories=\"Symbology\">\n";
    const std::string common =
        "symbollevels=\"0\" forceraster=\"0\" enableorderby=\"0\" referencescale=\"-1\"";
    switch (style.kind) {
    case LayerStyle::Kind::graduated: {
        o << "  <renderer-v2 type=\"graduatedSymbol\" attr=\"" << xml(style.field)
          << "\" graduatedMethod=\"GraduatedColor\" " << common << ">\n";
        o << "    <ranges>\n";
        for (std::size_t i = 0; i < style.breaks.size(); ++i) {
            const std::string lo = i == 0 ? graduated_lower(style) : qgis_double(style.breaks[i - 1]);
            const std::string up = qgis_double(style.breaks[i]);
            o << "      <range render=\"true\" symbol=\"" << i << "\" lower=\"" << lo << "\" upper=\"" << up
              << "\" label=\"" << xml(label_of(style, i, exact_double(style.breaks[i]))) << "\"/>\n";
        }
        o << "    </ranges>\n    <symbols>\n";
        for (std::size_t i = 0; i < style.breaks.size(); ++i)
            write_symbol(o, std::to_string(i), symbol_type, style.colours[i], "      ");
        o << "    </symbols>\n";
        o << "    <source-symbol>\n";
        write_symbol(o, "0", symbol_type, style.colours.front(), "      ");
        o << "    </source-symbol>\n";
        write_colour_ramp(o, style.colours, "    ");
        o << "    <classificationMethod id=\"Quantile\">\n"
             "      <symmetricMode enabled=\"0\" symmetrypoint=\"0\" astride=\"0\"/>\n"
             "      <labelFormat format=\"%1 - %2\" labelprecision=\"2\" trimtrailingzeroes=\"1\"/>\n"
             "      <extraInformation/>\n"
             "    </classificationMethod>\n";
        o << "    <rotation/>\n    <sizescale/>\n";
        o << "  </renderer-v2>\n";
        break;
    }
    case LayerStyle::Kind::categorized: {
        o << "  <renderer-v2 type=\"categorizedSymbol\" attr=\"" << xml(style.field) << "\" " << common
          << ">\n";
        o << "    <categories>\n";
        for (std::size_t i = 0; i < style.values.size(); ++i)
            o << "      <category render=\"true\" symbol=\"" << i << "\" value=\"" << xml(style.values[i])
              << "\" label=\"" << xml(label_of(style, i, style.values[i])) << "\"/>\n";
        o << "    </categories>\n    <symbols>\n";
        for (std::size_t i = 0; i < style.values.size(); ++i)
            write_symbol(o, std::to_string(i), symbol_type, style.colours[i], "      ");
        o << "    </symbols>\n";
        o << "    <source-symbol>\n";
        write_symbol(o, "0", symbol_type, style.colours.front(), "      ");
        o << "    </source-symbol>\n";
        o << "    <rotation/>\n    <sizescale/>\n";
        o << "  </renderer-v2>\n";
        break;
    }
    case LayerStyle::Kind::single: {
        o << "  <renderer-v2 type=\"singleSymbol\" " << common << ">\n";
        o << "    <symbols>\n";
        write_symbol(o, "0", symbol_type, style.colours.empty() ? "#fd8d3c" : style.colours.front(),
                     "      ");
        o << "    </symbols>\n";
        o << "    <rotation/>\n    <sizescale/>\n";
        o << "  </renderer-v2>\n";
        break;
    }
    }
    o << "  <blendMode>0</blendMode>\n";
    o << "  <featureBlendMode>0</featureBlendMode>\n";
    o << "  <layerOpacity>" << exact_double(style.opacity) << "</layerOpacity>\n";
    o << "</qgis>\n";
    return o.str();
}

namespace {

std::string raster_style_qml(const LayerStyle& style) {
    style.validate();
    std::ostringstream o;
    o << qml_doctype;
    o << "<qgis version=\"" << qml_version << "\" styleCategories=\"AllStyleCategories\""
      << " hasScaleBasedVisibilityFlag=\"0\" minScale=\"1e+08\" maxScale=\"0\">\n";
    o << "  <pipe>\n";
    o << "    <provider>\n"
         "      <resampling enabled=\"false\" maxOversampling=\"2\" "
         "zoomedInResamplingMethod=\"nearestNeighbour\""
         " zoomedOutResamplingMethod=\"nearestNeighbour\"/>\n"
         "    </provider>\n";
    const std::string opacity = exact_double(style.opacity);
    if (style.kind == LayerStyle::Kind::graduated) {
        const double lo = std::isnan(style.lower) ? style.breaks.front() : style.lower;
        const double hi = style.breaks.back();
        // nodataColor="" leaves nodata cells transparent.
        o << "    <rasterrenderer type=\"singlebandpseudocolor\" band=\"1\" opacity=\"" << opacity
          << "\" alphaBand=\"-1\" nodataColor=\"\" classificationMin=\"" << exact_double(lo)
          << "\" classificationMax=\"" << exact_double(hi) << "\">\n";
        o << "      <rasterTransparency/>\n";
        o << "      <minMaxOrigin>\n"
             "        <limits>None</limits>\n"
             "        <extent>WholeRaster</extent>\n"
             "        <statAccuracy>Estimated</statAccuracy>\n"
             "        <cumulativeCutLower>0.02</cumulativeCutLower>\n"
             "        <cumulativeCutUpper>0.98</cumulativeCutUpper>\n"
             "        <stdDevFactor>2</stdDevFactor>\n"
             "      </minMaxOrigin>\n";
        o << "      <rastershader>\n";
        // classificationMode 1 = continuous (keep the items as given), clip 0: values beyond the
        // ends take the end colours.
        o << "        <colorrampshader colorRampType=\"" << (style.interpolate ? "INTERPOLATED" : "DISCRETE")
          << "\" classificationMode=\"1\" clip=\"0\" minimumValue=\"" << exact_double(lo)
          << "\" maximumValue=\"" << exact_double(hi) << "\" labelPrecision=\"4\">\n";
        write_colour_ramp(o, style.colours, "          ");
        for (std::size_t i = 0; i < style.breaks.size(); ++i) {
            // DISCRETE colours a cell by the first item whose value is >= the cell's value; QGIS
            // itself makes the last item "inf" so that nothing above the last break goes blank.
            const bool last = i + 1 == style.breaks.size();
            const std::string value = (!style.interpolate && last) ? "inf" : exact_double(style.breaks[i]);
            o << "          <item alpha=\"255\" value=\"" << value << "\" label=\""
              << xml(label_of(style, i, exact_double(style.breaks[i]))) << "\" color=\"" << style.colours[i]
              << "\"/>\n";
        }
        o << "        </colorrampshader>\n";
        o << "      </rastershader>\n";
        o << "    </rasterrenderer>\n";
    } else if (style.kind == LayerStyle::Kind::categorized) {
        o << "    <rasterrenderer type=\"paletted\" band=\"1\" opacity=\"" << opacity
          << "\" alphaBand=\"-1\" nodataColor=\"\">\n";
        o << "      <rasterTransparency/>\n";
        o << "      <colorPalette>\n";
        for (std::size_t i = 0; i < style.values.size(); ++i)
            o << "        <paletteEntry value=\"" << xml(style.values[i]) << "\" color=\"" << style.colours[i]
              << "\" alpha=\"255\" label=\"" << xml(label_of(style, i, style.values[i])) << "\"/>\n";
        o << "      </colorPalette>\n";
        o << "    </rasterrenderer>\n";
    } else {
        throw InvalidInput(
            "write_raster_qml: a single-symbol style has no meaning for a raster; use a graduated "
            "or categorized style");
    }
    o << "    <brightnesscontrast brightness=\"0\" contrast=\"0\" gamma=\"1\"/>\n";
    o << "    <huesaturation saturation=\"0\" grayscaleMode=\"0\" invertColors=\"0\" colorizeOn=\"0\""
         " colorizeRed=\"255\" colorizeGreen=\"128\" colorizeBlue=\"128\" colorizeStrength=\"100\"/>\n";
    o << "    <rasterresampler maxOversampling=\"2\"/>\n";
    o << "    <resamplingStage>resamplingFilter</resamplingStage>\n";
    o << "  </pipe>\n";
    o << "  <blendMode>0</blendMode>\n";
    o << "</qgis>\n";
    return o.str();
}

} // namespace

std::string write_raster_qml(const std::string& raster_path, const LayerStyle& style) {
    if (raster_path.empty()) throw InvalidInput("write_raster_qml: the raster path is empty");
    const std::string qml = raster_style_qml(style);
    std::filesystem::path sidecar(raster_path);
    sidecar.replace_extension(".qml");
    std::ofstream out(sidecar, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write the QGIS style '" + sidecar.string() + "'");
    out << qml;
    out.close();
    if (!out) throw IoError("cannot write the QGIS style '" + sidecar.string() + "'");
    return sidecar.string();
}

// ---------------------------------------------------------------------------------------------
// GeoPackage

namespace {

struct GeometryDeleter {
    void operator()(OGRGeometry* g) const { OGRGeometryFactory::destroyGeometry(g); }
};
using GeometryPtr = std::unique_ptr<OGRGeometry, GeometryDeleter>;

struct ResultSetReleaser {
    GDALDataset* ds;
    void operator()(OGRLayer* layer) const { ds->ReleaseResultSet(layer); }
};

/// Runs one statement of the GeoPackage's native SQL; throws IoError naming the file on failure.
void execute(GDALDataset& ds, const std::string& path, const std::string& sql) {
    CPLErrorReset();
    std::unique_ptr<OGRLayer, ResultSetReleaser> result(ds.ExecuteSQL(sql.c_str(), nullptr, nullptr),
                                                        ResultSetReleaser{&ds});
    if (CPLGetLastErrorType() == CE_Failure || CPLGetLastErrorType() == CE_Fatal)
        throw IoError("'" + path + "': SQL failed (" + detail::gdal_last_error() +
                      "): " + sql.substr(0, 200));
}

/// The layer type for a set of geometries: their common type, Multi* when singles and multis of
/// one family mix, Unknown (any geometry) otherwise.
OGRwkbGeometryType common_type(const std::vector<GeometryPtr>& geoms) {
    OGRwkbGeometryType out = wkbUnknown;
    bool any = false, has_z = false;
    for (const auto& g : geoms) {
        if (!g) continue;
        has_z = has_z || g->Is3D();
        const OGRwkbGeometryType t = wkbFlatten(g->getGeometryType());
        if (!any) {
            out = t, any = true;
            continue;
        }
        if (t == out) continue;
        const auto multi = [](OGRwkbGeometryType x) { return OGR_GT_GetCollection(x); };
        if (multi(t) == out) continue; // a single among multis
        if (multi(out) == t) {
            out = t;
            continue;
        } // a multi among singles
        if (multi(t) == multi(out) && multi(t) != wkbUnknown) {
            out = multi(t);
            continue;
        }
        return has_z ? wkbSetZ(wkbUnknown) : wkbUnknown;
    }
    return has_z ? wkbSetZ(out) : out;
}

std::string family(OGRwkbGeometryType type) {
    const auto t = wkbFlatten(type);
    if (t == wkbPolygon || t == wkbMultiPolygon || t == wkbCurvePolygon || t == wkbMultiSurface)
        return "polygon";
    if (t == wkbLineString || t == wkbMultiLineString || t == wkbCircularString || t == wkbCompoundCurve ||
        t == wkbMultiCurve)
        return "line";
    if (t == wkbPoint || t == wkbMultiPoint) return "point";
    return "polygon";
}

bool ends_with_ci(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && lower_case(s.substr(s.size() - suffix.size())) == suffix;
}

/// Rolls back a transaction unless it was committed.
class Transaction {
  public:
    Transaction(GDALDataset& ds, const std::string& path) : m_ds(ds) {
        if (m_ds.StartTransaction(FALSE) != OGRERR_NONE)
            throw IoError("'" + path + "': cannot start a transaction: " + detail::gdal_last_error());
    }
    ~Transaction() {
        if (!m_done) m_ds.RollbackTransaction();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit(const std::string& path) {
        m_done = true;
        if (m_ds.CommitTransaction() != OGRERR_NONE)
            throw IoError("'" + path + "': cannot commit: " + detail::gdal_last_error() +
                          " (is the GeoPackage being read by another program at the same time?)");
    }

  private:
    GDALDataset& m_ds;
    bool m_done = false;
};

void store_style(GDALDataset& ds, const std::string& path, const std::string& layer,
                 const std::string& geometry_column, const LayerStyle& style, const std::string& qml) {
    // The schema QGIS creates (through OGR) when it saves a style into a GeoPackage; update_time's
    // default is the GeoPackage datetime format OGR translates CURRENT_TIMESTAMP into.
    execute(ds, path,
            "CREATE TABLE IF NOT EXISTS layer_styles ("
            "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "
            "\"f_table_catalog\" TEXT(256), \"f_table_schema\" TEXT(256), \"f_table_name\" TEXT(256), "
            "\"f_geometry_column\" TEXT(256), \"styleName\" TEXT(30), \"styleQML\" TEXT, \"styleSLD\" TEXT, "
            "\"useAsDefault\" BOOLEAN, \"description\" TEXT, \"owner\" TEXT(30), \"ui\" TEXT(30), "
            "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))");
    execute(ds, path,
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
            "SELECT 'layer_styles', 'attributes', 'layer_styles', '', strftime('%Y-%m-%dT%H:%M:%fZ','now') "
            "WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE lower(table_name) = 'layer_styles')");
    const std::string name = style.title.empty() ? layer : style.title;
    // The layer was replaced, so styles saved for its previous content go with it (GDAL drops them
    // too when it deletes a layer, but only from a table it already knew about).
    execute(ds, path,
            "DELETE FROM layer_styles WHERE f_table_schema = '' AND f_table_name = " + sql_text(layer));
    execute(ds, path,
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
            "styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner) VALUES ('', '', " +
                sql_text(layer) + ", " + sql_text(geometry_column) + ", " + sql_text(name) + ", " +
                sql_text(qml) + ", '', 1, " + sql_text("Written by streetsafe") + ", '')");
}

} // namespace

void write_gpkg_layer(const std::string& path, const std::string& layer_name, const FeatureTable& table,
                      const LayerStyle& style) {
    if (layer_name.empty()) throw InvalidInput("write_gpkg_layer: the layer name is empty");
    table.validate();
    style.validate();
    if (!ends_with_ci(path, ".gpkg"))
        throw InvalidInput("write_gpkg_layer: '" + path + "' does not end in .gpkg (GeoPackage files must)");

    std::vector<GeometryPtr> geoms(table.wkb.size());
    for (std::size_t i = 0; i < table.wkb.size(); ++i) {
        const auto& w = table.wkb[i];
        if (w.empty()) continue; // a NULL geometry
        OGRGeometry* g = nullptr;
        if (OGRGeometryFactory::createFromWkb(w.data(), nullptr, &g, w.size(), wkbVariantIso) !=
                OGRERR_NONE ||
            g == nullptr)
            throw InvalidInput("write_gpkg_layer: geometry " + std::to_string(i) + " of layer '" +
                               layer_name + "' is not valid WKB");
        geoms[i].reset(g);
    }
    const OGRwkbGeometryType type = common_type(geoms);
    if (OGR_GT_IsSubClassOf(wkbFlatten(type), wkbGeometryCollection) &&
        wkbFlatten(type) != wkbGeometryCollection)
        for (auto& g : geoms) // promote singles to the layer's Multi* type
            if (g && wkbFlatten(g->getGeometryType()) != wkbFlatten(type))
                g.reset(OGRGeometryFactory::forceTo(g.release(), type));
    const std::string qml = vector_style_qml(style, family(type));

    std::unique_ptr<OGRSpatialReference, void (*)(OGRSpatialReference*)> srs(nullptr,
                                                                             [](OGRSpatialReference* s) {
                                                                                 if (s) s->Release();
                                                                             });
    if (!table.crs_wkt.empty()) {
        srs.reset(new OGRSpatialReference());
        srs->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (srs->SetFromUserInput(table.crs_wkt.c_str()) != OGRERR_NONE)
            throw InvalidInput("write_gpkg_layer: the table's CRS cannot be read: " +
                               table.crs_wkt.substr(0, 80));
    }

    detail::ensure_gdal();
    CPLErrorReset();
    const bool existed = std::filesystem::exists(path);
    detail::DatasetPtr ds;
    if (existed) {
        const char* drivers[] = {"GPKG", nullptr};
        ds.reset(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE, drivers));
        if (!ds)
            throw IoError("cannot open '" + path +
                          "' as a GeoPackage for update: " + detail::gdal_last_error());
    } else {
        GDALDriver* driver = GetGDALDriverManager()->GetDriverByName("GPKG");
        if (driver == nullptr) throw IoError("GDAL has no GPKG driver; cannot write '" + path + "'");
        ds.reset(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
        if (!ds) throw IoError("cannot create the GeoPackage '" + path + "': " + detail::gdal_last_error());
    }

    try {
        Transaction transaction(*ds, path);
        const char* options[] = {"OVERWRITE=YES", "GEOMETRY_NAME=geom", "FID=fid", "SPATIAL_INDEX=YES",
                                 nullptr};
        OGRLayer* layer = ds->CreateLayer(layer_name.c_str(), srs.get(), type, const_cast<char**>(options));
        if (layer == nullptr)
            throw IoError("'" + path + "': cannot create layer '" + layer_name +
                          "': " + detail::gdal_last_error());
        for (const auto& c : table.columns) {
            const OGRFieldType ft = std::visit(
                [](const auto& v) {
                    using T = typename std::decay_t<decltype(v)>::value_type;
                    if constexpr (std::is_same_v<T, double>)
                        return OFTReal;
                    else if constexpr (std::is_same_v<T, std::int64_t>)
                        return OFTInteger64;
                    else
                        return OFTString;
                },
                c.values);
            OGRFieldDefn field(c.name.c_str(), ft);
            if (layer->CreateField(&field) != OGRERR_NONE)
                throw IoError("'" + path + "': cannot create field '" + c.name + "' in layer '" + layer_name +
                              "': " + detail::gdal_last_error());
        }
        OGRFeatureDefn* defn = layer->GetLayerDefn();
        std::vector<int> index(table.columns.size());
        for (std::size_t k = 0; k < table.columns.size(); ++k)
            index[k] = defn->GetFieldIndex(table.columns[k].name.c_str());
        for (std::size_t i = 0; i < table.wkb.size(); ++i) {
            OGRFeature feature(defn);
            if (geoms[i]) feature.SetGeometryDirectly(geoms[i].release());
            for (std::size_t k = 0; k < table.columns.size(); ++k) {
                std::visit(
                    [&](const auto& v) {
                        using T = typename std::decay_t<decltype(v)>::value_type;
                        if constexpr (std::is_same_v<T, double>) {
                            if (std::isnan(v[i]))
                                feature.SetFieldNull(index[k]);
                            else
                                feature.SetField(index[k], v[i]);
                        } else if constexpr (std::is_same_v<T, std::int64_t>) {
                            feature.SetField(index[k], static_cast<GIntBig>(v[i]));
                        } else {
                            feature.SetField(index[k], v[i].c_str());
                        }
                    },
                    table.columns[k].values);
            }
            if (layer->CreateFeature(&feature) != OGRERR_NONE)
                throw IoError("'" + path + "': cannot write feature " + std::to_string(i) + " of layer '" +
                              layer_name + "': " + detail::gdal_last_error());
        }
        const std::string geometry_column = layer->GetGeometryColumn();
        store_style(*ds, path, layer_name, geometry_column, style, qml);
        transaction.commit(path);
    } catch (...) {
        ds.reset();
        if (!existed) std::filesystem::remove(path);
        throw;
    }
    CPLErrorReset();
    ds.reset();
    if (CPLGetLastErrorType() == CE_Failure)
        throw IoError("'" + path + "': error while closing: " + detail::gdal_last_error());
}

} // namespace streetsafe
