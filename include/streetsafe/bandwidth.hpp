#pragma once

// Bandwidth selection for kernel density: closed-form rules (Scott, Silverman, ArcGIS' default
// search radius), cross-validation criteria as spatstat implements them (likelihood, bw.ppl; mean
// square error, bw.diggle) and a predictive one (PAI on held-out incidents). Every selector returns
// the bandwidth together with how it was found, so that the choice can be stored with the raster
// (BandwidthChoice::metadata) and defended.
//
// Bandwidths are in the convention of kde.hpp: the standard deviation σ for the Gaussian kernel,
// the support radius for the others. A bandwidth found for one kernel carries over to another by
// the ratio of their canonical bandwidths (convert_bandwidth), which keeps the kernel estimate's
// asymptotic accuracy the same (Marron and Nolan 1988); for the quartic and the Gaussian the ratio
// is 2.779, the constant of Silverman's (1986) Table 4.1 for his kernel K2 in two dimensions.
//
// Weights (Incidents::weight; 1 each when empty) are used where the reference method uses them:
// ArcGIS' rule (its population field), likelihood cross-validation (spatstat's `weights`) and the
// PAI hold-out (through kde and the PAI counts). Scott's and Silverman's rules and Diggle's
// criterion use the locations only, as spatstat's bw.scott and bw.diggle do.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streetsafe/context.hpp"
#include "streetsafe/grid.hpp"
#include "streetsafe/incidents.hpp"
#include "streetsafe/kde.hpp"

namespace streetsafe {

/// A selected bandwidth and how it was found.
struct BandwidthChoice {
    double bandwidth_m = 0; ///< for `kernel`: σ for the Gaussian, support radius otherwise
    /// "scott", "silverman", "arcgis", "likelihood_cv", "diggle" or "pai_holdout".
    std::string method;
    /// Bandwidths whose criterion was evaluated, ascending, metres; empty for closed-form rules.
    std::vector<double> candidates;
    /// The criterion at each candidate (log-likelihood for likelihood_cv, to maximise; Diggle's
    /// M(σ), to minimise; PAI, to maximise); empty for closed-form rules.
    std::vector<double> scores;
    Kernel kernel = Kernel::gaussian; ///< the kernel bandwidth_m is meant for
    /// A sentence (ASCII) with the formula and its inputs, e.g. "Scott's rule: sigma =
    /// sqrt((sd_x^2 + sd_y^2)/2) n^(-1/6) = 118.3 m (n = 2000, sd_x = 412.7 m, sd_y = 398.1 m)", and
    /// any caveat (a criterion optimal at the end of its search range).
    std::string detail;

    /// The bandwidth carried over to another kernel by convert_bandwidth.
    [[nodiscard]] double for_kernel(Kernel k) const;
    /// Key/value pairs for Grid::metadata (written as GeoTIFF tags): bandwidth_method,
    /// bandwidth_selected_m, bandwidth_kernel, bandwidth_detail and, when present,
    /// bandwidth_candidates_m and bandwidth_scores (space-separated).
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> metadata() const;
};

/// Canonical bandwidth δ(K) = (R(K) / μ₂(K)²)^(1/6) of a kernel of kde.hpp at bandwidth 1, with
/// R(K) = ∫K² and μ₂(K) = ∫x₁² K(x) dx (Marron and Nolan 1988, in two dimensions):
///   gaussian     R = 1/(4π),  μ₂ = 1       δ = 0.6558
///   quartic      R = 9/(5π),  μ₂ = 1/8     δ = 1.8227  (2.779 δ_gaussian)
///   epanechnikov R = 4/(3π),  μ₂ = 1/6     δ = 1.5752  (2.402 δ_gaussian)
///   triangular   R = 3/(2π),  μ₂ = 3/20    δ = 1.6639  (2.537 δ_gaussian)
///   uniform      R = 1/π,     μ₂ = 1/4     δ = 1.3117  (2 δ_gaussian)
double canonical_bandwidth(Kernel kernel);

/// bandwidth_m × δ(to) / δ(from): the bandwidth of kernel `to` smoothing as much as `bandwidth_m`
/// of kernel `from` (e.g. a Gaussian σ of 100 m → a quartic radius of 277.9 m).
double convert_bandwidth(double bandwidth_m, Kernel from, Kernel to);

/// How the two axes' spreads combine into one for the isotropic normal-reference rules.
enum class AxisSpread {
    quadratic_mean, ///< √((s_x² + s_y²)/2), Silverman's (1986, §4.3.2) σ̄
    geometric_mean, ///< √(s_x s_y), spatstat's bw.scott(isotropic = TRUE)
};

/// Scott's normal-reference rule in two dimensions (Scott 1992, h = σ n^(−1/(d+4)) with d = 2):
/// σ = s n^(−1/6), s the axis spread (sample standard deviations, denominator n − 1; by default
/// their quadratic mean), n the number of incidents. This is the Gaussian σ; for another kernel it
/// is converted by convert_bandwidth. Throws InvalidInput for fewer than 2 incidents or zero spread.
BandwidthChoice scott_bandwidth(const Incidents& incidents, Kernel kernel = Kernel::gaussian,
                                AxisSpread spread = AxisSpread::quadratic_mean);

/// Silverman's rule of thumb in two dimensions: his normal-reference bandwidth for the multivariate
/// normal kernel (Silverman 1986, §4.3.2, eq. 4.14 with A(K) = 1 for d = 2) with the robust spread
/// of his one-dimensional rule (§3.4.2), min(s, IQR / 1.34), the axes combined as quadratic means:
///   σ = min(s̄, Q̄ / 1.34) n^(−1/6),  s̄ = √((s_x² + s_y²)/2),  Q̄ = √((IQR_x² + IQR_y²)/2),
/// quartiles by linear interpolation (R's type 7); when Q̄ is zero, s̄ alone (as R's bw.nrd0). The
/// result refers to the Gaussian kernel; for another it is multiplied by δ(K) / δ(gaussian), which
/// reproduces Silverman's Table 4.1 (A(K) = 2.40 Epanechnikov, 2.78 quartic, his K2). Throws
/// InvalidInput for fewer than 2 incidents or zero spread.
BandwidthChoice silverman_bandwidth(const Incidents& incidents, Kernel kernel = Kernel::gaussian);

/// ArcGIS' default search radius for Kernel Density (ArcGIS Pro, "How Kernel Density works"), a
/// spatial variant of Silverman's rule robust to outliers, for its quartic kernel:
///   h = 0.9 × min(SD, √(1/ln 2) × D_m) × n^(−0.2),
/// SD the weighted standard distance √(Σw d_i² / Σw), D_m the weighted median of the distances d_i
/// to the weighted mean centre, n the sum of the weights (the number of incidents for unit weights,
/// as ArcGIS with no population field). The weighted median is the smallest d_i whose cumulative
/// weight exceeds half the total, or the mean of two neighbours when it equals half exactly (the
/// ordinary median for unit weights). Throws InvalidInput for fewer than 2 incidents, negative
/// weights or zero spread.
BandwidthChoice arcgis_bandwidth(const Incidents& incidents);

/// Options of likelihood_cv_bandwidth.
struct LikelihoodCvOptions {
    /// σ values to evaluate, metres (all of them, in ascending order); empty: `count` values
    /// log-spaced between min_bandwidth_m and max_bandwidth_m.
    std::vector<double> candidates;
    int count = 32;
    /// Smallest σ; 0: half the median distance from an incident to the nearest incident at another
    /// location.
    double min_bandwidth_m = 0;
    /// Largest σ; 0: half the window's diameter (spatstat's default upper end).
    double max_bandwidth_m = 0;
    /// The window W; empty: the incidents' bounding rectangle. Every incident must lie in it.
    std::optional<Bounds> window;
    /// Golden-section search for the maximum between the neighbours of the best candidate, to 1 %.
    bool refine = true;
    /// Stop scanning the automatic candidates (ascending, each costlier than the last) once
    /// `patience` successive ones have scored below the best so far. The criterion is unimodal for
    /// all but contrived patterns; set false to evaluate every candidate as spatstat does.
    bool stop_early = true;
    int patience = 3;

    /// Throws InvalidInput naming the offending field.
    void validate() const;
};

/// Likelihood cross-validation as spatstat's bw.ppl: the Gaussian σ maximising
///   LCV(σ) = Σ_i log λ̂₋ᵢ(x_i) − ∫_W λ̂(u) du,
///   λ̂₋ᵢ(x_i) = Σ_{j≠i} w_j φ_σ(x_i − x_j),   ∫_W λ̂ = Σ_j w_j P_σ(W − x_j),
/// φ_σ the isotropic Gaussian density and P_σ(W − x_j) the mass of the Gaussian at x_j inside the
/// rectangle W (a product of two erf differences), so that mass leaking out of W counts against
/// large σ. λ̂ carries no edge correction (spatstat's density.ppp default, edge = TRUE, divides by the
/// kernel's mass in W instead; values differ near the window's edges). Kernels are cut at 8σ, found
/// through an index of the incidents sorted in horizontal strips. A candidate that leaves some
/// incident without a neighbour within 8σ scores −∞. Result for the Gaussian kernel. Throws
/// InvalidInput for fewer than 2 incidents, all at one location, a window of zero area or not
/// containing them, negative weights, bad options, or when every candidate scores −∞.
BandwidthChoice likelihood_cv_bandwidth(const Incidents& incidents, const LikelihoodCvOptions& options = {},
                                        const Context& context = {});

/// LCV(σ) above, at one σ (the window as in LikelihoodCvOptions::window).
double likelihood_cv_score(const Incidents& incidents, double sigma_m,
                           const std::optional<Bounds>& window = {}, const Context& context = {});

/// Options of diggle_bandwidth.
struct DiggleOptions {
    /// Largest σ (spatstat's hmax); 0: spatstat's rule, r_max / 4 with
    /// r_max = min(shorter side of W / 4, √(1000 / (π λ))). r_max is capped at half the shorter side.
    double max_bandwidth_m = 0;
    /// Steps of the distance grid r_k = k r_max / (steps − 1) (spatstat's nr), 3 to 4096; the
    /// candidates are σ_k = r_k / 2 for 0 < r_k <= r_max / 2.
    int steps = 512;
    /// The window W; empty: the incidents' bounding rectangle. Every incident must lie in it.
    std::optional<Bounds> window;

    /// Throws InvalidInput naming the offending field.
    void validate() const;
};

/// Diggle's (1985) mean-square-error cross-validation as spatstat's bw.diggle, computed as Berman
/// and Diggle (1989) do from the K function. For the uniform kernel on a disc of radius h,
///   M(h) = MSE(h)/λ² − g(0) = (1/λ − 2 K(h)) / (π h²) + J(h) / (π h²)²,
///   J(h) = ∫₀^{2h} A(t, h) dK(t),  A(t, h) = 2h² acos(t / 2h) − (t / 2) √(4h² − t²),
/// A the area of the intersection of two discs of radius h at distance t, λ = n / |W|, and K the
/// translation-corrected estimate K(r) = |W| / (n (n − 1)) Σ_{i≠j} e_ij 1{d_ij <= r},
/// e_ij = |W| / ((a − |Δx_ij|)(b − |Δy_ij|)) for W of sides a × b. As in spatstat the disc radius is
/// converted to the Gaussian σ of equal variance, σ = h / 2, and M is evaluated at σ_k = r_k / 2 of
/// a grid of r; the minimiser is returned (the first when tied). Unlike spatstat, which sums
/// A(r_j) ΔK over the grid of r, J is summed over the pair distances binned four times finer than
/// the grid with each bin's first two moments (a second-order expansion of A about the bin centre),
/// and K(h) is exact. Spatstat estimates K with Kest(correction = "good"), Ripley's isotropic
/// correction for a rectangle unless the pattern is large; the translation correction used here is
/// Kest's "translate". Throws InvalidInput for fewer than 2 incidents, a window of zero area or not
/// containing them, or bad options.
BandwidthChoice diggle_bandwidth(const Incidents& incidents, const DiggleOptions& options = {},
                                 const Context& context = {});

/// Options of pai_holdout_bandwidth.
struct PaiHoldoutOptions {
    /// The surface: kernel, cell size, output, normalisation and study area (`bounds`; empty: the
    /// extent of training and test incidents together, padded by one cell). bandwidth_m is ignored.
    KdeOptions kde;
    /// Bandwidths to try (for kde.kernel), metres; empty: `count` values log-spaced between
    /// min_bandwidth_m and max_bandwidth_m.
    std::vector<double> candidates;
    int count = 16;
    double min_bandwidth_m = 0; ///< 0: two cells
    double max_bandwidth_m = 0; ///< 0: a quarter of the study area's shorter side
    double area_share = 0.05;   ///< share of the study area flagged as hotspots

    /// Throws InvalidInput naming the offending field.
    void validate() const;
};

/// The bandwidth whose KDE of `train` has the highest PAI (evaluate.hpp) for `test` at
/// `area_share`, over the candidates; ties go to the larger bandwidth (the smoother map). Every
/// candidate is evaluated on the same study grid. Scores are the PAIs. Throws InvalidInput for empty
/// sets, bad options, or when no test incident falls in the study area.
BandwidthChoice pai_holdout_bandwidth(const Incidents& train, const Incidents& test,
                                      const PaiHoldoutOptions& options = {}, const Context& context = {});

} // namespace streetsafe
