#pragma once

// Predictive accuracy of a hotspot surface against later incidents: hit rate, the Predictive
// Accuracy Index (PAI), the Predictive Efficiency Index (PEI) and the Recapture Rate Index (RRI),
// at one share of the study area or as curves over many; a temporal train/test split; and the
// grid-count baseline a kernel density surface should beat.
//
// The study area A is the surface's valid (non-nodata) cells, all of equal area. The hotspot area a
// for a share s is the k highest-valued valid cells, k = ⌈s × |A|⌉ (at least one): the smallest
// whole number of cells covering the share; the share actually covered, k / |A|, is reported.
// Cells are ranked by value, larger first, ties broken by the lower row-major cell index (the
// north-westernmost first), so the selection is deterministic. Incidents are assigned to cells as
// count_grid (hotspots.hpp) does: cells are half-open, [west, east) × (south, north].
//
// Counts are sums of incident weights (1 each when Incidents::weight is empty), so with unit
// weights they are numbers of incidents. Incidents outside the grid, in nodata cells or with
// non-finite coordinates are not part of N: they are counted in a CoverageReport, never dropped
// silently.
//
// References:
//   Chainey, S., Tompson, L. and Uhlig, S. (2008) The utility of hotspot mapping for predicting
//     spatial patterns of crime. Security Journal 21, 4-28.          (PAI, hit rate)
//   Hunt, J. M. (2016), doctoral dissertation, American University: the Predictive Efficiency
//     Index PEI = PAI / PAI*, PAI* the largest PAI any selection of the same area reaches.
//   Levine, N. (2008) The "hottest" part of a hotspot: comments on "The utility of hotspot mapping
//     for predicting spatial patterns of crime". Security Journal 21, 295-302.   (RRI)

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "streetsafe/grid.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/time.hpp"

namespace streetsafe {

/// Where a set of incidents falls relative to a surface's study area.
struct CoverageReport {
    std::size_t incidents = 0;       ///< rows given
    std::size_t in_study_area = 0;   ///< in a valid cell: the incidents that make up N
    std::size_t outside_grid = 0;    ///< outside the grid's extent
    std::size_t in_nodata = 0;       ///< inside the extent, in a nodata cell
    std::size_t not_finite = 0;      ///< with a NaN or infinite coordinate
    double weight_in_study_area = 0; ///< N: the sum of their weights
    double weight_outside = 0;       ///< weight of the incidents outside the study area (all three reasons)

    /// One line, e.g. "812 of 830 incidents in the study area (15 outside the grid, 3 in nodata cells)".
    [[nodiscard]] std::string summary() const;
};

/// Accuracy of the hotspot cells covering one share of the study area.
struct HotspotEvaluation {
    double area_share = 0; ///< requested share of the study area, in (0, 1]
    /// Share covered by the selected cells, a / A = k / |A| >= area_share (a product area_share × |A|
    /// within 1e-9 of a whole number counts as that number, so 5 % of 100 cells is 5 cells).
    double hotspot_share = 0;
    std::size_t hotspot_cells = 0; ///< k
    std::size_t study_cells = 0;   ///< |A|, valid cells
    double hotspot_area_m2 = 0;    ///< a
    double study_area_m2 = 0;      ///< A
    double test_in_hotspots = 0;   ///< n: test weight in the selected cells
    double hit_rate = 0;           ///< n / N
    double pai = 0;                ///< (n / N) / (a / A)
    /// The largest PAI any k cells could reach for these test incidents: (n* / N) / (a / A), n* the
    /// test weight in the k cells holding the most test weight.
    double pai_max = 0;
    double pei = 0; ///< PAI / PAI* = n / n*, in [0, 1]
    /// Train weight in the selected cells, and RRI = (n / N) / (n_train / N_train); NaN when no
    /// training incidents were given, or none lies in the selected cells (RRI undefined).
    double train_in_hotspots = std::numeric_limits<double>::quiet_NaN();
    double rri = std::numeric_limits<double>::quiet_NaN();
    CoverageReport test;  ///< N is test.weight_in_study_area
    CoverageReport train; ///< all zero when no training incidents were given
};

/// The same measures over many shares, one row per share in the order given (a table of columns).
struct HotspotCurve {
    std::vector<double> area_share, hotspot_share;
    std::vector<std::size_t> hotspot_cells;
    std::vector<double> test_in_hotspots, hit_rate, pai, pai_max, pei;
    std::vector<double> train_in_hotspots, rri; ///< NaN when no training incidents were given
    std::size_t study_cells = 0;
    double study_area_m2 = 0;
    CoverageReport test, train;

    [[nodiscard]] std::size_t size() const { return area_share.size(); }
};

/// Shares from..to in steps of `step`, each computed as from + i × step (no accumulated rounding);
/// by default 0.5 %, 1 %, ..., 20 %. Throws InvalidInput unless 0 < from <= to <= 1 and step > 0.
std::vector<double> area_shares(double from = 0.005, double to = 0.20, double step = 0.005);

/// Hit rate, PAI, PEI (and RRI when `train` is given) of the cells covering `area_share` of the
/// study area of `surface`. `test` (and `train`) must be in the surface's CRS. Throws InvalidInput
/// for an empty or inconsistent surface, one without valid cells, an area_share outside (0, 1],
/// negative or non-finite weights, or when no test incident lies in the study area (N = 0).
HotspotEvaluation evaluate_hotspots(const Grid& surface, const Incidents& test, double area_share = 0.05,
                                    const Incidents* train = nullptr);

/// The measures for every share in `shares` (each in (0, 1]), ranking the cells once. Hit rate and
/// hotspot_share never decrease with the share.
HotspotCurve evaluate_hotspot_curve(const Grid& surface, const Incidents& test,
                                    const std::vector<double>& shares = area_shares(),
                                    const Incidents* train = nullptr);

/// Single measures, as evaluate_hotspots computes them.
double hit_rate(const Grid& surface, const Incidents& test, double area_share = 0.05);
double pai(const Grid& surface, const Incidents& test, double area_share = 0.05);
double pei(const Grid& surface, const Incidents& test, double area_share = 0.05);
double rri(const Grid& surface, const Incidents& train, const Incidents& test, double area_share = 0.05);

/// Row-major indices of the hotspot cells covering `area_share` of the study area, in rank order
/// (the selection every measure above uses).
std::vector<std::size_t> hotspot_cells(const Grid& surface, double area_share);

/// The grid-count baseline ("grid thematic mapping" in Chainey et al. 2008): the weight of the
/// incidents in each cell of a grid with the geometry, CRS and study-area mask of `like` (cells that
/// are nodata in `like` are NaN), in "incidents per cell". Cell for cell the same as
/// count_grid(incidents, like) of hotspots.hpp; evaluated with the functions above it is the
/// surface a kernel density map has to beat. `report` receives where the incidents fell.
Grid count_baseline(const Incidents& incidents, const Grid& like, CoverageReport* report = nullptr);

/// What split_by_time did with each incident.
struct TemporalSplitReport {
    LocalSeconds t0 = no_time, t1 = no_time, t2 = no_time;
    std::size_t incidents = 0;
    std::size_t train = 0;  ///< whole time range in [t0, t1)
    std::size_t test = 0;   ///< whole time range in [t1, t2)
    std::size_t before = 0; ///< ends before t0
    std::size_t after = 0;  ///< starts at or after t2
    /// Time range crossing t0, t1 or t2, e.g. a month-precision record whose month contains t1:
    /// it cannot be placed on either side, so it is in neither set.
    std::size_t straddling = 0;
    std::size_t no_time = 0;                   ///< no time recorded
    std::vector<std::int64_t> straddling_rows; ///< Incidents::source_row of the straddling incidents

    /// A few lines for the CLI's report.
    [[nodiscard]] std::string summary() const;
};

struct TemporalSplit {
    Incidents train, test;
    TemporalSplitReport report;
};

/// Splits incidents by time into train = [t0, t1) and test = [t1, t2), in local civil seconds. An
/// incident belongs to a set when its whole time range [time, time_end] lies inside it (an instant
/// when time_end equals time or is no_time); the others are counted in the report. Both sets keep
/// the input order, CRS, zone and category dictionary. Throws InvalidInput unless t0 < t1 < t2, or
/// when the incidents' arrays are inconsistent.
TemporalSplit split_by_time(const Incidents& incidents, LocalSeconds t0, LocalSeconds t1, LocalSeconds t2);

} // namespace streetsafe
