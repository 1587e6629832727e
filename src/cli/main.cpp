// streetsafe: the command-line program. Dispatches to one subcommand (command_<verb>.cpp) and is
// the single place where errors become exit codes and a one-line message on stderr:
//   2 invalid input (bad option, bad data, empty selection), 3 I/O, 4 CRS, 1 anything else.

#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "streetsafe/error.hpp"
#include "streetsafe/version.hpp"

namespace {

/// Prints `streetsafe: error: <message>` as exactly one line and returns `code`.
int fail(int code, std::string message) {
    for (char& c : message)
        if (c == '\n' || c == '\r') c = ' ';
    while (!message.empty() && message.back() == ' ')
        message.pop_back();
    std::cerr << "streetsafe: error: " << message << std::endl;
    return code;
}

std::string versions_text() {
    std::string text;
    for (const auto& [name, version] : streetsafe::versions())
        text += (text.empty() ? "" : "\n") + name + " " + version;
    return text;
}

/// The usage error with a pointer to the help of the command it concerns.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e) {
    std::string command = "streetsafe";
    for (const CLI::App* sub : app.get_subcommands())
        command += " " + sub->get_name();
    return std::string(e.what()) + " (see '" + command + " --help')";
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "streetsafe: hotspots, lost hours and school-route exposure from geocoded violent incidents.",
        "streetsafe"};
    app.set_version_flag("--version", versions_text,
                         "Print the versions of streetsafe, GDAL, GEOS, PROJ and Boost");
    app.require_subcommand(1);
    app.footer("Examples:\n"
               "  streetsafe hotspots data/demo_incidents.csv -o hotspots.tif\n"
               "  streetsafe info hotspots.tif\n"
               "  streetsafe gistar data/demo_incidents.csv -o gi.tif --cell 100\n"
               "  streetsafe areas incidents.csv --areas wards.gpkg --id-field WD22CD -o rates.gpkg\n"
               "\n"
               "Run 'streetsafe COMMAND --help' for the options of a command.");
    streetsafe::cli::add_hotspots_command(app);
    streetsafe::cli::add_info_command(app);
    streetsafe::cli::add_gistar_command(app);
    streetsafe::cli::add_areas_command(app);
    streetsafe::cli::add_evaluate_command(app);

    if (argc <= 1) {
        std::cout << app.help();
        return 2;
    }
    if (const std::string first = argv[1]; !first.empty() && first[0] != '-') {
        std::string commands;
        bool known = false;
        for (const CLI::App* sub : std::as_const(app).get_subcommands([](const CLI::App*) { return true; })) {
            known = known || sub->check_name(first);
            commands += (commands.empty() ? "" : ", ") + sub->get_name();
        }
        if (!known) return fail(2, "unknown command '" + first + "'; the commands are " + commands);
    }
    try {
        app.parse(argc, argv);
        return 0;
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
            return app.exit(e); // help, version
        return fail(2, usage_message(app, e));
    } catch (const streetsafe::InvalidInput& e) {
        return fail(2, e.what());
    } catch (const streetsafe::IoError& e) {
        return fail(3, e.what());
    } catch (const streetsafe::CrsError& e) {
        return fail(4, e.what());
    } catch (const streetsafe::Error& e) {
        return fail(1, e.what());
    } catch (const std::bad_alloc&) {
        return fail(1, "out of memory");
    } catch (const std::exception& e) {
        return fail(1, e.what());
    }
}
