#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "streetsafe/context.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/io.hpp"
#include "streetsafe/time.hpp"

namespace streetsafe {

// Space-time clustering: the Knox near-repeat test (as the Near Repeat Calculator) and ST-DBSCAN.
//
// Which incidents take part. Both analyses need a time to the minute: only incidents whose
// precision is `minute` or `second`, whose time is set and whose coordinates are finite are used.
// Month- and day-precision records would invent closeness in time (every month-precision record
// sits on the 1st). A from/to range (time_end != time) is excluded unless `use_range_start` is
// set, in which case its start is taken. What was left out is counted in an EligibilityReport.
//
// Time differences are differences of local wall-clock seconds (Incidents::time), so a pair that
// straddles a DST change is an hour off its elapsed time (which moves it across a band edge only
// when its difference lies within an hour of that edge).

/// How many incidents an analysis used and why the others were left out.
struct EligibilityReport {
    std::size_t used = 0;
    std::size_t no_time = 0;          ///< precision none or time == no_time
    std::size_t coarse_time = 0;      ///< precision month or day
    std::size_t time_range = 0;       ///< a from/to range, without use_range_start
    std::size_t bad_coordinate = 0;   ///< x or y not finite
};

// ---------------------------------------------------------------------------------------------
// Knox near-repeat test

/// Bands are half-open intervals [a, b) between consecutive edges, in distance (Euclidean metres,
/// sqrt(dx² + dy²) in the working CRS) and in time (days, exact: 86,400 local seconds per day); a
/// pair exactly on an edge counts in the upper band. The Near Repeat Calculator (Ratcliffe 2009)
/// labels its bands as inclusive ranges of whole units ("1 to 100", "101 to 200" metres; "0 to
/// 7", "8 to 14" days), which are off by one from the half-open intervals it computes; here
/// labels state the intervals as computed ("[0, 100) m", "[7, 14) days"). Each unordered pair is
/// counted once. Pairs beyond the last edge in either dimension are not counted (no "more than"
/// column), which is what lets close pairs be found once and reused.
struct KnoxOptions {
    /// Distance band edges, metres: ascending, first 0, at least two. {0,100,200} gives [0,100), [100,200).
    std::vector<double> distance_edges_m{0, 100, 200, 300, 400};
    /// Time band edges, days: ascending, first 0, at least two.
    std::vector<double> time_edges_days{0, 7, 14, 21, 28};
    /// > 0 adds a "same location" band [0, same_location_m) by splitting the first distance band
    /// into [0, same_location_m) and [same_location_m, edges[1]). Must be below distance_edges_m[1].
    double same_location_m = 0;
    /// Monte Carlo replications (times permuted among the locations).
    int permutations = 999;
    /// Seed of the permutations; replicate r uses a stream seeded from SplitMix64(seed, r), so
    /// results do not depend on the thread count.
    std::uint64_t seed = 20090101;
    /// Use the start of a from/to time range instead of leaving the incident out.
    bool use_range_start = false;

    /// Throws InvalidInput naming the bad field.
    void validate() const;
};

/// Knox table: cells row-major, distance band d (rows) × time band t (columns), index d * time_bands + t.
struct KnoxResult {
    std::vector<double> distance_edges_m;  ///< with the same-location edge, if any; bands = size - 1
    std::vector<double> time_edges_days;
    std::vector<std::string> distance_labels; ///< "[0, 100) m"
    std::vector<std::string> time_labels;     ///< "[0, 7) days"
    std::vector<std::int64_t> observed;   ///< pairs with distance and time difference in the cell
    std::vector<double> expected;         ///< mean count over the permutations
    std::vector<double> ratio;            ///< observed / expected; NaN where expected is 0
    std::vector<double> p_value;          ///< (1 + #{simulated >= observed}) / (permutations + 1)
    std::vector<std::int64_t> sim_min, sim_max; ///< range of the simulated counts
    int permutations = 0;
    std::uint64_t seed = 0;
    std::size_t close_pairs = 0;          ///< pairs within the last distance edge (any time)
    EligibilityReport eligibility;

    [[nodiscard]] std::size_t distance_bands() const { return distance_edges_m.size() - 1; }
    [[nodiscard]] std::size_t time_bands() const { return time_edges_days.size() - 1; }
    [[nodiscard]] std::size_t cell(std::size_t d, std::size_t t) const { return d * time_bands() + t; }
};

/// The Knox test for near repeats: counts incident pairs by distance band and time band and
/// compares each count with its distribution when the times are randomly permuted among the
/// locations. Close pairs (distance below the last edge) are found once with a grid index, so
/// each replicate costs O(close pairs); replicates run in parallel (Context::threads) and give
/// identical results for any thread count. Reports progress; throws Cancelled on request,
/// InvalidInput for bad options or fewer than two usable incidents.
KnoxResult knox_test(const Incidents& incidents, const KnoxOptions& options = {},
                     const Context& context = {});

/// The permutation of replicate `replicate` used by knox_test for `n` usable incidents: in that
/// replicate, usable incident i is given the time of usable incident perm[i]. Fisher-Yates driven
/// by SplitMix64 seeded with SplitMix64(seed + replicate). Exposed so that tests and other tools
/// can reproduce a replicate exactly.
std::vector<std::uint32_t> knox_permutation(std::size_t n, std::uint64_t seed, std::uint64_t replicate);

/// The indexes (into `incidents`) of the incidents knox_test and st_dbscan use, in order.
std::vector<std::size_t> usable_incidents(const Incidents& incidents, bool use_range_start = false,
                                          EligibilityReport* report = nullptr);

// ---------------------------------------------------------------------------------------------
// ST-DBSCAN

/// How the time distance of two incidents is measured.
enum class TimeMetric : std::uint8_t {
    linear,      ///< |t1 - t2| in days; neighbours when <= eps_days
    time_of_day, ///< circular distance of clock times on 24 h, minutes; neighbours when <= eps_minutes_of_day
};

/// ST-DBSCAN (Birant & Kut 2007) with two radii. Two usable incidents are neighbours when their
/// distance is <= eps_m and their time distance <= the temporal radius (closed, as DBSCAN). An
/// incident's neighbourhood includes itself; it is a core point when its neighbourhood has at
/// least min_points incidents (scikit-learn's convention). Birant & Kut's density-difference
/// check (Δε) is not applied.
///
/// Clusters are the connected components of core points (two cores are joined when neighbours),
/// numbered 0, 1, ... in order of their lowest-index core point. A non-core incident with a core
/// neighbour is a border point and joins the cluster with the lowest number among its core
/// neighbours' clusters. This rule makes the result independent of visiting order (classic
/// DBSCAN gives a border point to whichever cluster reaches it first).
struct StDbscanOptions {
    double eps_m = 200;
    double eps_days = 7;                  ///< TimeMetric::linear
    double eps_minutes_of_day = 60;       ///< TimeMetric::time_of_day, at most 720
    int min_points = 5;
    TimeMetric metric = TimeMetric::linear;
    bool use_range_start = false;         ///< as KnoxOptions::use_range_start
    /// A cluster whose hull is not a polygon (one location, or all members on a line, common where
    /// incidents stack on an address) gets its hull buffered by this many metres as its outline.
    double degenerate_hull_buffer_m = 10;

    /// Throws InvalidInput naming the bad field.
    void validate() const;
};

/// One cluster's summary.
struct StCluster {
    std::int32_t id = 0;
    std::size_t count = 0;          ///< members, core and border
    std::size_t core_count = 0;
    double centroid_x = 0, centroid_y = 0; ///< mean of the members, metres
    /// The members' convex hull as a closed ring (first vertex == last), counter-clockwise. When
    /// the hull is degenerate (one location, or all members on a line) it is the hull buffered by
    /// StDbscanOptions::degenerate_hull_buffer_m instead, so every cluster has a polygon.
    std::vector<double> outline_x, outline_y;
    bool hull_degenerate = false;          ///< fewer than three non-collinear member locations
    double hull_area_m2 = 0;               ///< of the convex hull itself; 0 when degenerate
    LocalSeconds first_time = no_time, last_time = no_time;
    int peak_hour = 0;                     ///< most frequent hour of day (0-23); ties go to the earliest
    std::vector<std::int32_t> hour_counts; ///< 24 counts
};

struct StDbscanResult {
    static constexpr std::int32_t noise = -1;
    static constexpr std::int32_t not_used = -2; ///< no usable time or coordinate
    std::vector<std::int32_t> labels;   ///< one per incident: cluster id, noise or not_used
    std::vector<bool> core;             ///< one per incident
    std::vector<StCluster> clusters;    ///< by id
    EligibilityReport eligibility;
    std::string crs_wkt;
    StDbscanOptions options;
};

/// ST-DBSCAN over the usable incidents. Neighbours are found with a grid index of cell eps_m
/// (O(n · neighbours), not O(n²)). Hulls come from GEOS. Throws InvalidInput for bad options.
StDbscanResult st_dbscan(const Incidents& incidents, const StDbscanOptions& options = {},
                         const Context& context = {});

/// One polygon feature per cluster (StCluster::outline) with columns
/// cluster, count, core_count, centroid_x, centroid_y, first, last (ISO local time), days
/// (last - first), peak_hour, hull_area_m2, degenerate (0/1). For write_gpkg_layer.
FeatureTable cluster_table(const StDbscanResult& result);

/// A graduated style of cluster_table's `count` (5 quantile classes), or a single style when
/// there are no clusters.
LayerStyle cluster_style(const FeatureTable& table);

} // namespace streetsafe
