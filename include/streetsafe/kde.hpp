#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "streetsafe/context.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/incidents.hpp"

namespace streetsafe {

/// Kernel shapes, all radially symmetric and integrating to 1 over the plane. For the compact
/// kernels the bandwidth is the support radius h; for the Gaussian it is the standard deviation
/// (as spatstat's sigma), and its support is cut at 8 standard deviations (mass lost < 1e-13).
enum class Kernel {
    quartic,      ///< biweight, 3/(π h²) (1 − d²/h²)²; the default in QGIS, ArcGIS and CrimeStat
    epanechnikov, ///< 2/(π h²) (1 − d²/h²)
    triangular,   ///< 3/(π h²) (1 − d/h)
    uniform,      ///< 1/(π h²)
    gaussian,     ///< 1/(2π h²) exp(−d²/(2h²))
};

std::string_view to_string(Kernel k);
/// Parses "quartic" (also "biweight"), "epanechnikov", "triangular", "uniform", "gaussian".
Kernel parse_kernel(std::string_view name);

/// What each cell holds.
enum class KdeOutput {
    density_per_km2, ///< incidents (weight) per km², the default
    count_per_cell,  ///< expected incidents (weight) in the cell: density × cell area
};

/// How each incident's kernel is normalised on the grid.
enum class KdeNormalisation {
    /// The kernel's samples at cell centres are scaled so that they sum (× cell area) to the
    /// incident's weight on the infinite lattice of the grid: mass is conserved exactly (sampling
    /// a quartic of bandwidth 10 cells at cell centres alone misses up to 4e-5 of it).
    discrete,
    /// The continuous kernel sampled at cell centres, as QGIS' and ArcGIS' heatmaps do.
    continuous,
};

enum class KdeMethod {
    exact,       ///< the production path: each kernel scattered over its support, multi-threaded
    brute_force, ///< every kernel at every cell centre; O(cells × incidents), for tests
};

struct KdeOptions {
    Kernel kernel = Kernel::quartic;
    double bandwidth_m = 250;
    double cell_m = 25;
    KdeOutput output = KdeOutput::density_per_km2;
    KdeNormalisation normalisation = KdeNormalisation::discrete;
    KdeMethod method = KdeMethod::exact;
    /// Grid extent; empty: the incidents' extent padded by the kernel's support radius.
    std::optional<Bounds> bounds;
    /// Refuse grids larger than this (a billion cells is 8 GB).
    std::size_t max_cells = Grid::default_max_cells;

    /// Throws InvalidInput naming the offending field.
    void validate() const;
};

/// Radius beyond which the kernel is zero, in metres.
double support_radius(Kernel kernel, double bandwidth_m);

/// The kernel's value at squared distance `d2_m2` for bandwidth h, per m² (integrates to 1).
double kernel_value(Kernel kernel, double d2_m2, double bandwidth_m);

/// Kernel density of the incidents' weights on a grid in the incidents' CRS. Deterministic:
/// the same bytes for any thread count. Throws InvalidInput for empty incidents or bad options.
Grid kde(const Incidents& incidents, const KdeOptions& options = {}, const Context& context = {});

} // namespace streetsafe
