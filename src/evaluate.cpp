// Predictive accuracy of hotspot surfaces (PAI, PEI, RRI, hit rate), the temporal split and the
// grid-count baseline. See evaluate.hpp for the definitions.
//
// Every measure comes from one ranking of the valid cells (value descending, ties by the lower
// cell index) and per-cell sums of incident weight: prefix sums along the ranking give n for any
// number of cells k, and prefix sums of the per-cell test weights sorted descending give the
// oracle's n* (the best k cells for the test incidents), so a whole curve costs one sort.

#include "streetsafe/evaluate.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "streetsafe/error.hpp"

namespace streetsafe {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string number(double v) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, result.ptr);
}

bool is_nodata(double v, double nodata) {
    return std::isnan(v) || (!std::isnan(nodata) && v == nodata);
}

void check_surface(const Grid& surface, const char* what) {
    if (surface.rows == 0 || surface.cols == 0 || surface.values.size() != surface.rows * surface.cols)
        throw InvalidInput(std::string(what) + ": the surface has " + std::to_string(surface.rows) +
                           " rows × " + std::to_string(surface.cols) + " columns but " +
                           std::to_string(surface.values.size()) + " values");
    if (!(surface.cell_m > 0) || !std::isfinite(surface.cell_m) || !std::isfinite(surface.origin_x) ||
        !std::isfinite(surface.origin_y))
        throw InvalidInput(std::string(what) +
                           ": the surface needs a positive, finite cell size and a finite "
                           "origin; got cell_m " +
                           number(surface.cell_m));
}

void check_share(double share, const char* what) {
    if (!(share > 0 && share <= 1))
        throw InvalidInput(std::string(what) + ": area_share must be in (0, 1]; got " + number(share));
}

/// Row-major index of the cell holding (x, y), if any; cells are [west, east) × (south, north].
std::optional<std::size_t> cell_of(const Grid& g, double x, double y) {
    const double c = std::floor((x - g.origin_x) / g.cell_m);
    const double r = std::floor((g.origin_y - y) / g.cell_m);
    if (!(c >= 0 && c < double(g.cols) && r >= 0 && r < double(g.rows))) return std::nullopt;
    return std::size_t(r) * g.cols + std::size_t(c);
}

/// Per-cell weight of `incidents` on the geometry of `g` (size g.size(); zero in nodata cells).
std::vector<double> tally(const Grid& g, const Incidents& incidents, const char* what, const char* role,
                          CoverageReport& report) {
    const std::size_t n = incidents.size();
    if (incidents.y.size() != n || (!incidents.weight.empty() && incidents.weight.size() != n))
        throw InvalidInput(std::string(what) + ": " + role + " incidents have " + std::to_string(n) +
                           " x but " + std::to_string(incidents.y.size()) + " y and " +
                           std::to_string(incidents.weight.size()) + " weights");
    std::vector<double> counts(g.size(), 0.0);
    report = CoverageReport{};
    report.incidents = n;
    for (std::size_t i = 0; i < n; ++i) {
        const double w = incidents.weight.empty() ? 1.0 : incidents.weight[i];
        if (!(w >= 0) || !std::isfinite(w))
            throw InvalidInput(std::string(what) + ": " + role + " incident " + std::to_string(i) +
                               " has weight " + number(w) + "; weights must be finite and non-negative");
        const double x = incidents.x[i], y = incidents.y[i];
        if (!std::isfinite(x) || !std::isfinite(y)) {
            ++report.not_finite;
            report.weight_outside += w;
            continue;
        }
        const auto cell = cell_of(g, x, y);
        if (!cell) {
            ++report.outside_grid;
            report.weight_outside += w;
        } else if (is_nodata(g.values[*cell], g.nodata)) {
            ++report.in_nodata;
            report.weight_outside += w;
        } else {
            ++report.in_study_area;
            report.weight_in_study_area += w;
            counts[*cell] += w;
        }
    }
    return counts;
}

/// Valid cells by value descending, ties by the lower index.
std::vector<std::size_t> ranked_cells(const Grid& surface, const char* what) {
    std::vector<std::size_t> cells;
    cells.reserve(surface.size());
    for (std::size_t i = 0; i < surface.size(); ++i)
        if (!is_nodata(surface.values[i], surface.nodata)) cells.push_back(i);
    if (cells.empty())
        throw InvalidInput(std::string(what) + ": the surface has no valid (non-nodata) cells");
    const auto& v = surface.values;
    std::sort(cells.begin(), cells.end(),
              [&v](std::size_t a, std::size_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
    return cells;
}

/// k = ⌈share × valid⌉, at least 1: the fewest cells covering the share. A product that exceeds a
/// whole number by rounding only (0.05 × 100 = 5.000000000000001) is not rounded up.
std::size_t cells_for_share(double share, std::size_t valid) {
    const double t = share * double(valid);
    double k = std::floor(t);
    if (t - k > 1e-9 * std::max(1.0, t)) k += 1;
    return std::clamp<std::size_t>(std::size_t(k), 1, valid);
}

/// Prefix sums of `counts` taken in the order of `cells`: p[k] = weight in the first k cells.
std::vector<double> prefix_along(const std::vector<std::size_t>& cells, const std::vector<double>& counts) {
    std::vector<double> p(cells.size() + 1, 0.0);
    for (std::size_t k = 0; k < cells.size(); ++k)
        p[k + 1] = p[k] + counts[cells[k]];
    return p;
}

/// Prefix sums of the valid cells' counts sorted descending: the oracle's best k cells.
std::vector<double> oracle_prefix(const std::vector<std::size_t>& cells, const std::vector<double>& counts) {
    std::vector<double> sorted(cells.size());
    for (std::size_t k = 0; k < cells.size(); ++k)
        sorted[k] = counts[cells[k]];
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    std::vector<double> p(sorted.size() + 1, 0.0);
    for (std::size_t k = 0; k < sorted.size(); ++k)
        p[k + 1] = p[k] + sorted[k];
    return p;
}

HotspotCurve curve(const Grid& surface, const Incidents& test, const std::vector<double>& shares,
                   const Incidents* train, const char* what) {
    check_surface(surface, what);
    for (const double s : shares)
        check_share(s, what);
    const std::vector<std::size_t> cells = ranked_cells(surface, what);
    HotspotCurve out;
    const std::vector<double> test_counts = tally(surface, test, what, "test", out.test);
    const double n_test = out.test.weight_in_study_area;
    if (!(n_test > 0))
        throw InvalidInput(std::string(what) + ": no test incident lies in the study area (" +
                           out.test.summary() + "); PAI is undefined");
    const std::vector<double> hits = prefix_along(cells, test_counts);
    const std::vector<double> best = oracle_prefix(cells, test_counts);
    std::vector<double> train_hits;
    double n_train = 0;
    if (train != nullptr) {
        const std::vector<double> train_counts = tally(surface, *train, what, "training", out.train);
        n_train = out.train.weight_in_study_area;
        train_hits = prefix_along(cells, train_counts);
    }

    const std::size_t valid = cells.size();
    out.study_cells = valid;
    out.study_area_m2 = double(valid) * surface.cell_area_m2();
    for (const double share : shares) {
        const std::size_t k = cells_for_share(share, valid);
        const double area_ratio = double(k) / double(valid);
        const double n = hits[k];
        const double rate = n / n_test;
        const double rate_max = best[k] / n_test;
        out.area_share.push_back(share);
        out.hotspot_share.push_back(area_ratio);
        out.hotspot_cells.push_back(k);
        out.test_in_hotspots.push_back(n);
        out.hit_rate.push_back(rate);
        out.pai.push_back(rate / area_ratio);
        out.pai_max.push_back(rate_max / area_ratio);
        // n <= n* exactly; the clamp only guards against the two sums rounding differently with
        // non-integer weights, so that PEI never reads 1.0000000000000002.
        out.pei.push_back(std::min(1.0, n / best[k]));
        if (train != nullptr) {
            const double nt = train_hits[k];
            out.train_in_hotspots.push_back(nt);
            out.rri.push_back(n_train > 0 && nt > 0 ? rate / (nt / n_train) : nan);
        } else {
            out.train_in_hotspots.push_back(nan);
            out.rri.push_back(nan);
        }
    }
    return out;
}

} // namespace

std::string CoverageReport::summary() const {
    std::string s =
        std::to_string(in_study_area) + " of " + std::to_string(incidents) + " incidents in the study area";
    std::vector<std::string> parts;
    if (outside_grid > 0) parts.push_back(std::to_string(outside_grid) + " outside the grid");
    if (in_nodata > 0) parts.push_back(std::to_string(in_nodata) + " in nodata cells");
    if (not_finite > 0) parts.push_back(std::to_string(not_finite) + " with non-finite coordinates");
    if (!parts.empty()) {
        s += " (";
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (i > 0) s += ", ";
            s += parts[i];
        }
        s += ")";
    }
    return s;
}

std::vector<double> area_shares(double from, double to, double step) {
    if (!(from > 0 && from <= to && to <= 1) || !(step > 0) || !std::isfinite(step))
        throw InvalidInput("area_shares: need 0 < from <= to <= 1 and step > 0; got from " + number(from) +
                           ", to " + number(to) + ", step " + number(step));
    std::vector<double> shares;
    for (std::size_t i = 0;; ++i) {
        const double s = from + double(i) * step;
        if (s > to * (1 + 1e-12)) break;
        shares.push_back(std::min(s, to));
    }
    return shares;
}

HotspotEvaluation evaluate_hotspots(const Grid& surface, const Incidents& test, double area_share,
                                    const Incidents* train) {
    const HotspotCurve c = curve(surface, test, {area_share}, train, "evaluate_hotspots");
    HotspotEvaluation e;
    e.area_share = area_share;
    e.hotspot_share = c.hotspot_share[0];
    e.hotspot_cells = c.hotspot_cells[0];
    e.study_cells = c.study_cells;
    e.hotspot_area_m2 = double(e.hotspot_cells) * surface.cell_area_m2();
    e.study_area_m2 = c.study_area_m2;
    e.test_in_hotspots = c.test_in_hotspots[0];
    e.hit_rate = c.hit_rate[0];
    e.pai = c.pai[0];
    e.pai_max = c.pai_max[0];
    e.pei = c.pei[0];
    e.train_in_hotspots = c.train_in_hotspots[0];
    e.rri = c.rri[0];
    e.test = c.test;
    e.train = c.train;
    return e;
}

HotspotCurve evaluate_hotspot_curve(const Grid& surface, const Incidents& test,
                                    const std::vector<double>& shares, const Incidents* train) {
    return curve(surface, test, shares, train, "evaluate_hotspot_curve");
}

double hit_rate(const Grid& surface, const Incidents& test, double area_share) {
    return curve(surface, test, {area_share}, nullptr, "hit_rate").hit_rate[0];
}

double pai(const Grid& surface, const Incidents& test, double area_share) {
    return curve(surface, test, {area_share}, nullptr, "pai").pai[0];
}

double pei(const Grid& surface, const Incidents& test, double area_share) {
    return curve(surface, test, {area_share}, nullptr, "pei").pei[0];
}

double rri(const Grid& surface, const Incidents& train, const Incidents& test, double area_share) {
    return curve(surface, test, {area_share}, &train, "rri").rri[0];
}

std::vector<std::size_t> hotspot_cells(const Grid& surface, double area_share) {
    check_surface(surface, "hotspot_cells");
    check_share(area_share, "hotspot_cells");
    std::vector<std::size_t> cells = ranked_cells(surface, "hotspot_cells");
    cells.resize(cells_for_share(area_share, cells.size()));
    return cells;
}

Grid count_baseline(const Incidents& incidents, const Grid& like, CoverageReport* report) {
    check_surface(like, "count_baseline");
    CoverageReport coverage;
    const std::vector<double> counts = tally(like, incidents, "count_baseline", "the", coverage);
    Grid g;
    g.origin_x = like.origin_x;
    g.origin_y = like.origin_y;
    g.cell_m = like.cell_m;
    g.rows = like.rows;
    g.cols = like.cols;
    g.crs_wkt = like.crs_wkt;
    g.nodata = nan;
    g.units = "incidents per cell";
    g.values.resize(like.size());
    for (std::size_t i = 0; i < like.size(); ++i)
        g.values[i] = is_nodata(like.values[i], like.nodata) ? nan : counts[i];
    g.metadata = {{"method", "grid_count"},
                  {"cell_m", number(like.cell_m)},
                  {"incidents", std::to_string(coverage.incidents)},
                  {"incidents_in_study_area", std::to_string(coverage.in_study_area)},
                  {"total_weight", number(coverage.weight_in_study_area)}};
    if (report != nullptr) *report = coverage;
    return g;
}

std::string TemporalSplitReport::summary() const {
    auto time = [](LocalSeconds t) { return format_time(t, TimePrecision::second); };
    std::string s = std::to_string(incidents) + " incidents: " + std::to_string(train) +
                    " in the training period [" + time(t0) + ", " + time(t1) + "), " + std::to_string(test) +
                    " in the test period [" + time(t1) + ", " + time(t2) + ")";
    s += "\n  not used: " + std::to_string(before) + " before, " + std::to_string(after) + " after, " +
         std::to_string(straddling) + " with a time range crossing a period boundary, " +
         std::to_string(no_time) + " without a time";
    if (!straddling_rows.empty()) {
        s += "\n  crossing a boundary (source rows):";
        const std::size_t shown = std::min<std::size_t>(straddling_rows.size(), 10);
        for (std::size_t i = 0; i < shown; ++i) {
            s += ' ';
            s += std::to_string(straddling_rows[i]);
        }
        if (shown < straddling_rows.size()) s += " ...";
    }
    return s;
}

TemporalSplit split_by_time(const Incidents& incidents, LocalSeconds t0, LocalSeconds t1, LocalSeconds t2) {
    if (t0 == no_time || t1 == no_time || t2 == no_time || !(t0 < t1) || !(t1 < t2))
        throw InvalidInput(
            "split_by_time: the periods need t0 < t1 < t2 (train [t0, t1), test [t1, t2)); got t0 " +
            (t0 == no_time ? std::string("no_time") : format_time(t0)) + ", t1 " +
            (t1 == no_time ? std::string("no_time") : format_time(t1)) + ", t2 " +
            (t2 == no_time ? std::string("no_time") : format_time(t2)));
    incidents.validate();
    const std::size_t n = incidents.size();
    TemporalSplit out;
    TemporalSplitReport& r = out.report;
    r.t0 = t0;
    r.t1 = t1;
    r.t2 = t2;
    r.incidents = n;
    std::vector<bool> in_train(n, false), in_test(n, false);
    for (std::size_t i = 0; i < n; ++i) {
        const LocalSeconds start = incidents.time[i];
        if (start == no_time) {
            ++r.no_time;
            continue;
        }
        const LocalSeconds end =
            incidents.time_end[i] == no_time ? start : std::max(start, incidents.time_end[i]);
        if (start >= t0 && end < t1) {
            in_train[i] = true;
            ++r.train;
        } else if (start >= t1 && end < t2) {
            in_test[i] = true;
            ++r.test;
        } else if (end < t0) {
            ++r.before;
        } else if (start >= t2) {
            ++r.after;
        } else {
            ++r.straddling;
            r.straddling_rows.push_back(incidents.source_row[i]);
        }
    }
    out.train = select(incidents, in_train);
    out.test = select(incidents, in_test);
    return out;
}

} // namespace streetsafe
