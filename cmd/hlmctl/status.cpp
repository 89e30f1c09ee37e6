// hlmctl status TARGET: ask the nodes now (synchronous).

#include "commands.hpp"

#include <hlm/ctl/status.hpp>
#include <hlm/ctl/submit.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/terminal_progress.hpp>

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

namespace hlm::ctl {

namespace {

constexpr ObjectState k_states[] = {ObjectState::resident,
                                               ObjectState::premigrated,
                                               ObjectState::migrated,
                                               ObjectState::unknown};

// Replica errors on stderr, each text once: a node that cannot answer at
// all fails every replica it holds with the same words, and 30,000 equal
// lines hide the one that matters. The first object with an error is
// named; the others with the same error are counted at the end.
class ErrorLines
{
public:
  void
  add(const std::string& object, const std::string& error)
  {
    const auto it = m_repeats.find(error);
    if (it != m_repeats.end()) {
      ++it->second;
      return;
    }
    fmt::print(stderr, "hlmctl: {}: {}\n", object, error);
    if (m_repeats.size() < k_max_texts) {
      m_repeats.emplace(error, 0);
    }
  }

  ~ErrorLines()
  {
    for (const auto& [error, more] : m_repeats) {
      if (more > 0) {
        fmt::print(stderr, "hlmctl: {} (also for {} more {})\n", error, more,
                   more == 1 ? "replica" : "replicas");
      }
    }
  }

private:
  static constexpr std::size_t k_max_texts = 10'000;
  std::map<std::string, std::size_t> m_repeats; // error text → further occurrences
};

// The exit status for a query in which `with_errors` of `objects` could
// not be answered by every replica.
int
status_exit(std::size_t with_errors, std::size_t objects)
{
  return with_errors == 0 ? k_exit_success : with_errors < objects ? k_exit_partial : k_exit_failure;
}

// SwiftHLM's answer to GET /hlm/v1/status/...: {"/a/c/o": "state", ...}
// on one line, written as Python's json.dumps writes it, streamed round by
// round. An object a replica could not answer for is "unknown" there, as
// in SwiftHLM; the reasons go to stderr.
int
print_swifthlm_status(Context& ctx, const queue::Target& target)
{
  bool first = true;
  ErrorLines error_lines;
  const auto summary = ctx.service().status(target,
                              [&](const ObjectStatus& object) {
                                std::cout << (first ? "{" : ", ")
                                          << nlohmann::json(object.object)
                                               .dump(-1, ' ', true, nlohmann::json::error_handler_t::replace)
                                          << ": \"" << to_string(object.state) << '"';
                                first = false;
                                for (const auto& error : object.errors) {
                                  error_lines.add(object.object, error);
                                }
                              });
  std::cout << (first ? "{}" : "}") << std::flush;
  return status_exit(summary.with_errors, summary.objects);
}

} // namespace

void
add_status_command(CLI::App& parent, Context& ctx)
{
  auto target_text = std::make_shared<std::string>();
  auto swifthlm = std::make_shared<bool>(false);
  auto* cmd = parent.add_subcommand("status", "Show where each object's replicas are (asks the storage nodes)");
  cmd->add_option("target", *target_text, "[ACCOUNT/]CONTAINER[/OBJECT] (no account: the caller's own)")->required();
  cmd->add_flag("--swifthlm", *swifthlm,
                "print SwiftHLM's answer: one JSON map of object to state, nothing else");
  add_common_options(*cmd, ctx.common);
  cmd->callback([target_text, swifthlm, &ctx] {
    const auto target = ctx.own_account(parse_target(*target_text));
    if (*swifthlm && ctx.common.json) {
      throw InputError("--swifthlm and --json are two formats; give one");
    }
    if (*swifthlm) {
      ctx.status = print_swifthlm_status(ctx, target);
      return;
    }
    const bool json = ctx.common.json;
    // Streamed: a container's objects are printed round by round, never
    // held all at once. The JSON keeps the seed's {"/a/c/o": "state"} map.
    // Its opening is written with the first object (or at the end), so a
    // refusal (403, 404) leaves stdout empty rather than half a document.
    bool first = true;
    const auto open_document = [&] {
      if (json && first) {
        std::cout << "{\"objects\": {";
      }
    };
    nlohmann::json errors = nlohmann::json::array();
    // Like errors, the first 20; the summary counts them all.
    nlohmann::json stubs_missing = nlohmann::json::array();
    // On a terminal, when the listing itself goes elsewhere (a file, a
    // pager): a count of the objects answered so far.
    TerminalProgress bar(!json && ::isatty(STDOUT_FILENO) != 1);
    std::size_t answered = 0;
    ErrorLines error_lines;
    const auto summary = ctx.service().status(target,
                                [&](const ObjectStatus& object) {
                                  bar.update(fmt::format("hlmctl: status: {} objects answered, {}",
                                                         ++answered, bar.elapsed_text()));
                                  const auto state = to_string(object.state);
                                  open_document();
                                  if (json) {
                                    std::cout << (first ? "\n  " : ",\n  ") << nlohmann::json(object.object).dump()
                                              << ": \"" << state << '"';
                                  } else if (object.stub_missing_on.empty()) {
                                    fmt::print("{}  {}\n", object.object, state);
                                  } else {
                                    fmt::print("{}  {} (stub missing on {}: recall rebuilds it)\n",
                                               object.object, state,
                                               fmt::join(object.stub_missing_on, ", "));
                                  }
                                  if (!object.stub_missing_on.empty() && stubs_missing.size() < 20) {
                                    stubs_missing.push_back(
                                      {{"object", object.object}, {"devices", object.stub_missing_on}});
                                  }
                                  for (const auto& error : object.errors) {
                                    if (errors.size() < 20) {
                                      errors.push_back({{"object", object.object}, {"error", error}});
                                    }
                                    if (!json) {
                                      error_lines.add(object.object, error);
                                    }
                                  }
                                  first = false;
                                });
    bar.finish();
    nlohmann::json counts = nlohmann::json::object();
    std::string line;
    for (const auto state : k_states) {
      const auto n = summary.per_state[static_cast<std::size_t>(state)];
      counts[std::string(to_string(state))] = n;
      if (n > 0) {
        line += fmt::format("{}{} {}", line.empty() ? "" : ", ", n, to_string(state));
      }
    }
    if (json) {
      open_document();
      std::cout << (first ? "}" : "\n}") << ",\n\"summary\": "
                << nlohmann::json{{"objects", summary.objects}, {"states", counts},
                                  {"replica_errors", summary.with_errors},
                                  {"stubs_missing", summary.with_stub_missing}}.dump()
                << ",\n\"errors\": " << errors.dump()
                << ",\n\"stubs_missing\": " << stubs_missing.dump() << "}\n";
    } else {
      fmt::print("{} objects{}{}\n", summary.objects, line.empty() ? "" : ": ", line);
    }
    ctx.status = status_exit(summary.with_errors, summary.objects);
  });
}

} // namespace hlm::ctl
