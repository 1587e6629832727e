// streetsafe evaluate: how well a hotspot map of one period predicts the next. Incidents are split
// by time into a training and a test period, a kernel density of the training incidents is ranked,
// and the hit rate, PAI, PEI and RRI of its top 1 … 20% of cells are printed and written as a CSV.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "streetsafe/bandwidth.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/evaluate.hpp"
#include "streetsafe/kde.hpp"
#include "streetsafe/time.hpp"

namespace streetsafe::cli {

namespace {

struct EvaluateOptions {
    IncidentInput in;
    std::string train_from, train_to, test_from, test_to;
    std::string output;
    double bandwidth_m = 250;
    std::string bandwidth_method;
    double cell_m = 25;
    std::string kernel = "quartic";
    bool quiet = false;
};

LocalSeconds time_option(const std::string& option, const std::string& text, const std::string& zone) {
    const auto range = parse_time(text, zone.empty() ? "UTC" : zone);
    if (!range)
        throw InvalidInput(option + ": cannot parse '" + text + "' as a time; expected e.g. 2023-06 or 2023-06-01");
    return range->start;
}

double choose_bandwidth(const EvaluateOptions& o, const Incidents& train, Kernel kernel, std::string& how) {
    if (o.bandwidth_method.empty()) {
        how = "given";
        return o.bandwidth_m;
    }
    BandwidthChoice c;
    if (o.bandwidth_method == "scott") c = scott_bandwidth(train, kernel);
    else if (o.bandwidth_method == "silverman") c = silverman_bandwidth(train, kernel);
    else if (o.bandwidth_method == "arcgis") c = arcgis_bandwidth(train);
    else if (o.bandwidth_method == "likelihood") c = likelihood_cv_bandwidth(train);
    else c = diggle_bandwidth(train);
    how = c.method;
    return c.for_kernel(kernel);
}

void run(const EvaluateOptions& o) {
    if (!o.output.empty() && !o.output.ends_with(".csv"))
        throw InvalidInput("-o: the curve is written as CSV (.csv), not '" + o.output + "'");
    const std::string zone = o.in.time_zone;
    const LocalSeconds t0 = time_option("--train-from", o.train_from, zone);
    const LocalSeconds t1 = time_option("--train-to", o.train_to, zone);
    const LocalSeconds t2 = o.test_from.empty() ? t1 : time_option("--test-from", o.test_from, zone);
    const LocalSeconds t3 = time_option("--test-to", o.test_to, zone);
    if (!(t0 < t1 && t1 <= t2 && t2 < t3))
        throw InvalidInput("the periods must follow each other: --train-from < --train-to <= --test-from < --test-to");
    KdeOptions kde_options;
    kde_options.kernel = parse_kernel(o.kernel);
    kde_options.cell_m = o.cell_m;

    const Incidents incidents = read_incident_input(o.in, o.quiet);
    TemporalSplit first = split_by_time(incidents, t0, t1, t2 > t1 ? t2 : t3);
    Incidents train = std::move(first.train);
    Incidents test = t2 > t1 ? split_by_time(incidents, t1, t2, t3).test : std::move(first.test);
    if (train.empty()) throw InvalidInput("no incidents in the training period " + o.train_from + " to " + o.train_to);
    if (test.empty()) throw InvalidInput("no incidents in the test period to " + o.test_to);

    std::string how;
    kde_options.bandwidth_m = choose_bandwidth(o, train, kde_options.kernel, how);
    kde_options.validate();
    const Grid surface = kde(train, kde_options);
    std::vector<double> shares;
    for (int p = 1; p <= 20; ++p)
        shares.push_back(p / 100.0);
    const HotspotCurve curve = evaluate_hotspot_curve(surface, test, shares, &train);

    if (!o.output.empty()) {
        std::ofstream csv(o.output);
        csv << "percent,hotspot_cells,hit_rate,pai,pai_max,pei,rri\n";
        for (std::size_t i = 0; i < curve.size(); ++i)
            csv << format("%.10g,%zu,%.10g,%.10g,%.10g,%.10g,%.10g\n", 100 * curve.area_share[i],
                          curve.hotspot_cells[i], curve.hit_rate[i], curve.pai[i], curve.pai_max[i], curve.pei[i],
                          curve.rri[i]);
        if (!csv) throw IoError("cannot write '" + o.output + "'");
    }
    if (o.quiet) return;
    std::cout << "train      " << thousands(std::int64_t(train.size())) << " incidents, " << o.train_from << " to "
              << o.train_to << '\n'
              << "test       " << thousands(std::int64_t(test.size())) << " incidents to " << o.test_to << " ("
              << thousands(std::int64_t(curve.test.in_study_area)) << " in the study area)\n"
              << "bandwidth  " << number(kde_options.bandwidth_m) << " m (" << how << "), " << o.kernel << " kernel, "
              << number(o.cell_m) << " m cells\n"
              << "  area%  hit rate     PAI     PEI     RRI\n";
    for (std::size_t i = 0; i < curve.size(); ++i)
        std::cout << format("  %5.1f  %8.3f  %6.2f  %6.3f  %6.2f\n", 100 * curve.area_share[i], curve.hit_rate[i],
                            curve.pai[i], curve.pei[i], curve.rri[i]);
    if (!o.output.empty()) std::cout << "written    " << o.output << '\n';
}

} // namespace

void add_evaluate_command(CLI::App& app) {
    auto o = std::make_shared<EvaluateOptions>();
    CLI::App* cmd = app.add_subcommand("evaluate", "PAI, PEI and RRI of a hotspot map against a later period");
    cmd->footer("Examples:\n"
                "  streetsafe evaluate data/demo_incidents.csv --train-from 2023-01 --train-to 2023-07 \\\n"
                "      --test-to 2023-10 -o curve.csv\n"
                "  streetsafe evaluate street.csv --train-from 2022-01 --train-to 2023-01 --test-from 2023-01 \\\n"
                "      --test-to 2023-04 --bandwidth-method likelihood --cell 50\n"
                "\n"
                "The kernel density of the training incidents is ranked and its top 1, 2 ... 20% of cells\n"
                "scored against the test incidents: hit rate (share of test incidents), PAI (hit rate over\n"
                "area share), PEI (PAI over the best possible PAI) and RRI (test over training share).\n"
                "Periods are local times, each --...-to exclusive; --test-from defaults to --train-to.\n"
                "Exit codes: 0 done, 2 invalid input, 3 file error, 4 CRS error, 1 other error.");
    cmd->add_option("INPUT", o->in.input, "Incidents with times: CSV, GeoPackage, GeoJSON, Shapefile, PG:...")
        ->required();
    cmd->add_option("--train-from", o->train_from, "Start of the training period (e.g. 2023-01)")->required();
    cmd->add_option("--train-to", o->train_to, "End of the training period (exclusive)")->required();
    cmd->add_option("--test-from", o->test_from, "Start of the test period (default: --train-to)");
    cmd->add_option("--test-to", o->test_to, "End of the test period (exclusive)")->required();
    auto* bw = cmd->add_option("--bandwidth", o->bandwidth_m, "Kernel bandwidth in metres")
                   ->capture_default_str()
                   ->check(number_at_least(0, false, "a number of metres"));
    cmd->add_option("--bandwidth-method", o->bandwidth_method,
                    "Choose the bandwidth from the training incidents instead")
        ->check(CLI::IsMember({"scott", "silverman", "arcgis", "likelihood", "diggle"}))
        ->excludes(bw);
    cmd->add_option("--cell", o->cell_m, "Cell size in metres")
        ->capture_default_str()
        ->check(number_at_least(0, false, "a number of metres"));
    cmd->add_option("--kernel", o->kernel, "quartic, epanechnikov, triangular, uniform or gaussian")
        ->capture_default_str();
    cmd->add_option("-o,--out", o->output, "CSV of the curve to write");
    add_incident_input_options(cmd, o->in, "--layer");
    cmd->add_flag("-q,--quiet", o->quiet, "Print nothing on success");
    cmd->callback([o] { run(*o); });
}

} // namespace streetsafe::cli
