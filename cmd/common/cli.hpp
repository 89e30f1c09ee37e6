#pragma once

// The one catch site shared by every hlm executable: runs the parsed
// command and maps failures to the documented exit codes.

#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/journal.hpp>
#include <hlm/util/strings.hpp>
#include <hlm_version.hpp>

#include <connectors/builtin.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::cli {

// "hlmctl 0.1.0 (connectors: dummy)": what --version prints.
inline std::string
version_text(std::string_view program)
{
  std::vector<std::string_view> names;
  for (const auto& info : connector::builtin_connectors()) {
    names.push_back(info.name);
  }
  return fmt::format("{} {}\nconnectors: {}", program, HLM_VERSION, fmt::join(names, " "));
}

// Parses argv into `app` (whose callbacks run the command and may set
// `status`), then maps exceptions: usage errors 2, input errors
// `input_error_status`, everything else 1. Errors go to stderr, at
// priority "err" when stderr is the journal (journal.hpp); when `json`
// is set once the command line is parsed (--json), also to stdout as the
// run's one document, {"error": ..., "http_status": N for Swift's refusals}
// (a command prints its own document only when it succeeds).
inline int
run(CLI::App& app,
    std::string_view program,
    int argc,
    char** argv,
    int& status,
    int input_error_status,
    const bool* json = nullptr)
{
  const journal::LogStream log(stderr);
  // Every error line reads "<program>: error: <message>".
  const auto error = [&](const char* what, int http_status = 0, std::string_view kind = {}) {
    log.print(journal::Priority::err, fmt::format("{}: error: {}{}", program, kind, what));
    if (json != nullptr && *json) {
      nlohmann::json doc = {{"error", what}};
      if (http_status != 0) {
        doc["http_status"] = http_status;
      }
      std::fputs(
        (doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n").c_str(),
        stdout);
    }
  };
  // CLI11's usage errors too, then its hint.
  app.failure_message([name = std::string(program)](const CLI::App* failed, const CLI::Error& e) {
    return fmt::format("{}: error: {}", name, CLI::FailureMessage::simple(failed, e));
  });
  try {
    // A mistyped subcommand: CLI11 would only say one is required.
    if (app.get_require_subcommand_min() > 0 && argc > 1 && argv[1][0] != '-') {
      std::vector<std::string> names;
      bool known = false;
      for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        known = known || sub->get_name() == argv[1];
        if (!sub->get_group().empty()) { // hidden ones (__complete) are not offered
          names.push_back(sub->get_name());
        }
      }
      if (!known) {
        std::string message = fmt::format("unknown command \"{}\"", printable(argv[1]));
        if (const auto hint = closest_match(argv[1], names)) {
          message += fmt::format("; did you mean \"{}\"?", *hint);
        } else {
          message += fmt::format(" (commands: {})", fmt::join(names, ", "));
        }
        log.print(journal::Priority::err, fmt::format("{}: error: {}", program, message));
        return k_exit_usage;
      }
    }
    app.parse(argc, argv);
    return status;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? k_exit_success : k_exit_usage;
  } catch (const InputError& e) {
    error(e.what());
    return input_error_status;
  } catch (const SwiftError& e) {
    error(e.what(), e.http_status());
    return k_exit_failure;
  } catch (const Error& e) {
    error(e.what());
    return k_exit_failure;
  } catch (const std::exception& e) {
    error(e.what(), 0, "internal error: ");
    return k_exit_failure;
  }
}

} // namespace hlm::cli
