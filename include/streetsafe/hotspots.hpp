#pragma once

// Hot spots: incident counts on a grid, the Getis-Ord Gi* statistic on grids, areas and points
// (as ArcGIS' Hot Spot Analysis, with its confidence classes and False Discovery Rate correction),
// and hotspot polygons dissolved from the hottest cells of a surface, with their share of the
// incidents and Predictive Accuracy Index (PAI), ready for a GeoPackage styled for QGIS.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "streetsafe/areas.hpp"
#include "streetsafe/context.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/io.hpp"

namespace streetsafe {

// ---------------------------------------------------------------------------------------------
// Counts

/// Incidents' weights (1 each when Incidents::weight is empty) summed per cell of a grid with the
/// geotransform, CRS and study-area mask of `like`: cells that are nodata in `like` are NaN in the
/// result, and incidents there, outside the grid or with non-finite coordinates are not counted.
/// Cells are half-open, [west, east) × (south, north]: a point on an edge between two cells goes to
/// the eastern or southern one. Throws InvalidInput for an empty or inconsistent `like`.
Grid count_grid(const Incidents& incidents, const Grid& like);

/// The same on a new grid of `cell_m` square cells covering `bounds` (snapped outward to multiples
/// of `cell_m`, as Grid::covering does), by default the incidents' extent padded by half a cell.
Grid count_grid(const Incidents& incidents, double cell_m,
                const std::optional<Bounds>& bounds = std::nullopt);

// ---------------------------------------------------------------------------------------------
// Getis-Ord Gi*

/// Neighbourhoods and significance of Gi*. The feature itself is always its own neighbour (the
/// "star"); weights are binary. Distances are between cell centres (on a grid, exactly: integer
/// cell offsets × cell_m) or between area centroids / points. A neighbour within a distance band
/// is one at distance <= distance_band_m × (1 + 1e-9), so that a band equal to a lattice distance
/// includes it despite rounding.
struct GiStarOptions {
    /// Neighbours within this distance, metres. 0 with k_neighbours 0: automatic, the larger of
    /// (a) the mean over features of the distance to their K-th nearest neighbour, with
    /// K = 5% of the features clamped to [3, 30] (after ArcGIS Optimized Hot Spot Analysis' fallback
    /// when no autocorrelation peak is found), and (b) the largest nearest-neighbour distance, so that
    /// no feature is left without a neighbour. The band used is reported in GiStar::distance_band_m.
    double distance_band_m = 0;
    /// The k nearest features besides the feature itself (ties in distance broken by the lower
    /// feature index; on a grid the lower row-major cell index). Excludes distance_band_m.
    int k_neighbours = 0;
    /// Whether GiStar::classes() (and the class grid of a grid Gi*) use the Benjamini–Hochberg False
    /// Discovery Rate correction, as ArcGIS does by default in Optimized Hot Spot Analysis. Both
    /// classifications are always computed.
    bool fdr = true;

    /// Throws InvalidInput naming the offending field.
    void validate() const;
};

/// Gi* per feature (per cell in row-major order for a grid, per area, per point). Entries of
/// non-features (nodata cells, NaN values) are NaN in z, p and p_fdr, and 0 in the classes and
/// neighbour counts.
struct GiStar {
    std::vector<double> z;     ///< Gi* z-score (Ord & Getis 1995)
    std::vector<double> p;     ///< two-sided p-value under the normal approximation
    std::vector<double> p_fdr; ///< Benjamini–Hochberg adjusted p-value (q-value)
    /// ArcGIS' Gi_Bin: +3/+2/+1 hot spot at 99/95/90% confidence (p <= 0.01/0.05/0.10), −3/−2/−1 cold
    /// spot, 0 not significant; from the raw p-values.
    std::vector<std::int8_t> gi_bin;
    std::vector<std::int8_t> gi_bin_fdr;  ///< the same from the FDR-adjusted p-values
    std::vector<std::int32_t> neighbours; ///< neighbourhood size, the feature itself included
    std::size_t features = 0;             ///< n, the number of features
    std::size_t isolated = 0;             ///< features whose only neighbour is themselves
    double mean = 0;                      ///< X̄ over the features
    double sd = 0;                        ///< S, population standard deviation over the features
    double distance_band_m = 0;           ///< the band used (0 under k nearest neighbours)
    int k_neighbours = 0;                 ///< the k used (0 under a distance band)
    bool fdr = true;                      ///< which classification classes() returns

    [[nodiscard]] const std::vector<std::int8_t>& classes() const { return fdr ? gi_bin_fdr : gi_bin; }
};

/// Gi* of a grid and its results as grids with the input's geotransform and CRS, ready for
/// write_geotiff (nodata NaN).
struct GridGiStar {
    GiStar stats;
    Grid z;       ///< z-scores
    Grid classes; ///< GiStar::classes() as −3 … +3
};

/// Gi* of every valid cell of `values` (typically count_grid's incident counts): cells that are
/// nodata are not features and not neighbours. A distance band is summed from row prefix sums,
/// O(cells × band rows); k nearest neighbours walk a table of cell offsets sorted by distance,
/// O(cells × k). Multi-threaded and deterministic: the same bytes for any thread count.
/// Throws InvalidInput for an empty grid, fewer than 3 valid cells, a non-finite valid cell, values
/// that are all equal (Gi* is undefined), k_neighbours >= the number of valid cells, or bad options.
GridGiStar gi_star(const Grid& values, const GiStarOptions& options = {}, const Context& context = {});

/// Gi* of points with values (x, y in metres of a projected CRS). Points whose value is NaN are
/// not features. Neighbour search uses an R-tree. Throws InvalidInput as the grid version, and for
/// arrays of different lengths or non-finite coordinates of a feature.
GiStar gi_star_points(std::span<const double> x, std::span<const double> y, std::span<const double> values,
                      const GiStarOptions& options = {}, const Context& context = {});

/// Gi* of areas with a value each (counts, rates, ...; NaN: not a feature), neighbours by centroid
/// distance. Throws InvalidInput when `values` does not have one value per area.
GiStar gi_star(const AreaLayer& areas, std::span<const double> values, const GiStarOptions& options = {},
               const Context& context = {});

/// The areas with their Gi* results, for write_gpkg_layer: columns id, name (when the layer has
/// names), value, z, p, p_fdr, neighbours, gi_bin, gi_bin_fdr.
FeatureTable gi_star_table(const AreaLayer& areas, std::span<const double> values, const GiStar& result);

/// ArcGIS' hot/cold spot colours (blue −3 … pale yellow 0 … red +3) as a categorized style on a
/// Gi_Bin column ("gi_bin_fdr" or "gi_bin").
LayerStyle gi_bin_style(const std::string& field = "gi_bin_fdr");

/// Benjamini–Hochberg adjusted p-values (q-values): q_(i) = min over j >= i of min(1, m p_(j) / j),
/// m the number of non-NaN p-values; a test is significant at FDR level α when q <= α. NaN entries
/// stay NaN and do not count in m. Throws InvalidInput for a p-value outside [0, 1].
std::vector<double> fdr_adjust(std::span<const double> p);

/// Two-sided normal p-value of a z-score: erfc(|z| / √2).
double two_sided_p(double z);

/// ArcGIS' Gi_Bin of a z-score and its p-value: sign(z) × (3 if p <= 0.01, 2 if p <= 0.05,
/// 1 if p <= 0.10, else 0).
std::int8_t gi_bin(double z, double p);

// ---------------------------------------------------------------------------------------------
// Hotspot polygons

/// How hotspot cells are chosen from the surface.
enum class HotspotSelection {
    /// The top_percent of the study area's (valid) cells by surface value, largest first; ties
    /// broken by the lower row-major cell index, so that exactly ⌈top_percent % × valid cells⌉
    /// cells are selected — the cells evaluate.hpp's hotspot_cells(surface, top_percent / 100)
    /// ranks first, so that the polygons are the area its PAI is measured on — or fewer when
    /// fewer cells have a value above 0 (cells at 0 or below are never drawn as hot spots).
    top_percent,
    /// Cells whose Gi* class (of the incident counts on the surface's grid, with `gi` options) is at
    /// least min_gi_bin: hot at 95%+ confidence by default.
    gi_star,
    /// Cells whose surface value is at least `threshold` (e.g. a Gi* class grid with threshold 2).
    at_least,
};

struct HotspotPolygonOptions {
    HotspotSelection selection = HotspotSelection::top_percent;
    double top_percent = 5;    ///< top_percent: share of the study area's cells, in (0, 100]
    GiStarOptions gi;          ///< gi_star: the Gi* neighbourhood and whether classes use FDR
    int min_gi_bin = 2;        ///< gi_star: the lowest selected class, 1 … 3
    double threshold = 0;      ///< at_least: the lowest selected surface value
    std::size_t min_cells = 1; ///< polygons of fewer cells are dropped (they still count in totals)

    /// Throws InvalidInput naming the offending field.
    void validate() const;
};

/// Totals behind the polygons' shares.
struct HotspotSummary {
    std::size_t study_cells = 0;    ///< valid cells of the surface: the study area
    std::size_t selected_cells = 0; ///< cells in the returned polygons
    std::size_t polygons = 0;
    double study_area_km2 = 0;
    double selected_area_km2 = 0;
    double incidents_study = 0;       ///< weight of incidents in the study area (the shares' base)
    double incidents_selected = 0;    ///< weight of incidents in the returned polygons
    double incidents_outside = 0;     ///< weight outside the grid, in nodata cells or not finite
    double lowest_selected_value = 0; ///< the smallest surface value among the selected cells
    std::optional<GiStar> gi;         ///< gi_star selection: the Gi* of the counts
};

/// Dissolves the selected cells of `surface` (a KDE, a count grid, a Gi* class grid, ...) into
/// polygons, one per 4-connected component (cells touching only at a corner are separate hot
/// spots), unioned with GEOS: valid polygons with holes kept, shells counter-clockwise, holes
/// clockwise, no collinear vertices. Incidents must be in the surface's CRS; they are assigned
/// to cells as count_grid does, which is exact since each polygon is a union of whole cells.
///
/// Returns one feature per polygon, ordered by rank (1 = most incident weight inside; ties by the
/// higher mean surface value, then by the north-westernmost cell), with columns:
/// rank, cells, area_km2, incidents, incidents_per_km2, incidents_pct (share of the incidents in
/// the study area, %), cum_incidents_pct (of this and all higher-ranked polygons), area_pct (share
/// of the study area, %), pai (incidents_pct / area_pct, the Predictive Accuracy Index; NaN when
/// there are no incidents in the study area), mean_value and max_value (of the surface).
/// Throws InvalidInput for an empty surface, one without valid cells, or bad options.
FeatureTable hotspot_polygons(const Grid& surface, const Incidents& incidents,
                              const HotspotPolygonOptions& options = {}, HotspotSummary* summary = nullptr,
                              const Context& context = {});

/// Writes hotspot polygons to a GeoPackage layer styled for QGIS: graduated (quantile classes,
/// pale yellow to dark red) on a numeric column where larger is hotter (default "pai"; "incidents"
/// and "incidents_per_km2" work too), a single red fill when the table is empty or the column has
/// no finite value (PAI without incidents). Throws
/// InvalidInput when `style_field` is not a numeric column or classes < 1, IoError on write errors.
void write_hotspots_gpkg(const std::string& path, const std::string& layer, const FeatureTable& table,
                         const std::string& style_field = "pai", int classes = 5);

} // namespace streetsafe
