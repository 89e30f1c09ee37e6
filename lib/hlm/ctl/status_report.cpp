#include <hlm/ctl/status_report.hpp>
#include <hlm/dispatch/restore_expiry.hpp>
#include <hlm/util/exit_status.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <ostream>

namespace hlm::ctl {

namespace {

// The value of an object in --json's "objects": its merged state, whether
// it is readable, and what each replica said.
nlohmann::ordered_json
object_json(const ObjectStatus& object)
{
  auto replicas = nlohmann::ordered_json::array();
  for (const auto& replica : object.replicas) {
    nlohmann::ordered_json entry{{"device", replica.device}};
    if (!replica.node.empty()) {
      entry["node"] = replica.node;
    }
    entry["state"] = to_string(replica.state);
    if (replica.error) {
      entry["error"] = true; // the reason is in the document's "errors"
    }
    replicas.push_back(std::move(entry));
  }
  nlohmann::ordered_json value{{"state", to_string(object.state)},
                               {"readable", object.readable},
                               {"replicas", std::move(replicas)}};
  if (object.restore_expiry) {
    value["restore_expiry"] = *object.restore_expiry;
    value["restore"] = dispatch::restore_header_value(*object.restore_expiry);
  }
  return value;
}

// " (restored until 2026-12-11T00:00:00Z)" for an object with a restore
// expiry, else nothing.
std::string
restore_text(const ObjectStatus& object)
{
  if (!object.restore_expiry) {
    return {};
  }
  return fmt::format(" (restored until {})", dispatch::expiry_text(*object.restore_expiry));
}

// "  readable  sdb1@10.0.0.1=premigrated sdb2@10.0.0.2=migrated": what
// --replicas adds to an object's line ("=error" for a replica that could
// not say; the reason goes to the error lines).
std::string
replicas_text(const ObjectStatus& object)
{
  std::string text = object.readable ? "  readable" : "  not-readable";
  for (const auto& replica : object.replicas) {
    text += fmt::format("{}{}{}{}={}",
                        &replica == &object.replicas.front() ? "  " : " ",
                        replica.device,
                        replica.node.empty() ? "" : "@",
                        replica.node,
                        replica.error ? "error" : to_string(replica.state));
  }
  return text;
}

} // namespace

int
status_exit(const StatusSummary& summary)
{
  if (summary.with_errors == 0) {
    return k_exit_success;
  }
  return summary.with_errors < summary.objects ? k_exit_partial : k_exit_failure;
}

std::string
summary_line(const StatusSummary& summary)
{
  std::string line;
  for (const auto state : k_object_states) {
    const auto n = summary.per_state[static_cast<std::size_t>(state)];
    if (n > 0) {
      line += fmt::format("{}{} {}", line.empty() ? "" : ", ", n, to_string(state));
    }
  }
  return fmt::format("{} objects{}{}", summary.objects, line.empty() ? "" : ": ", line);
}

StatusSummary
print_swifthlm_status(Service& service,
                      const queue::Target& target,
                      std::ostream& out,
                      ErrorLines& errors)
{
  bool first = true;
  const auto summary = service.status(target, false, [&](const ObjectStatus& object) {
    out
      << (first ? "{" : ", ")
      << nlohmann::json(object.object).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace)
      << ": \"" << to_string(object.state) << '"';
    first = false;
    for (const auto& error : object.errors) {
      errors.add(object.object, error);
    }
  });
  out << (first ? "{}" : "}") << std::flush;
  return summary;
}

StatusSummary
print_status(Service& service,
             const queue::Target& target,
             StatusFormat format,
             std::ostream& out,
             ErrorLines& error_lines,
             const std::function<void(std::size_t answered)>& answered)
{
  const bool json = format.json;
  bool first = true;
  const auto open_document = [&] {
    if (json && first) {
      out << "{\"objects\": {";
    }
  };
  nlohmann::json errors = nlohmann::json::array();
  // Like errors, the first 20; the summary counts them all.
  nlohmann::json stubs_missing = nlohmann::json::array();
  std::size_t count = 0;
  const auto summary = service.status(target, format.replicas, [&](const ObjectStatus& object) {
    if (answered) {
      answered(++count);
    }
    const auto state = to_string(object.state);
    open_document();
    if (json) {
      out << (first ? "\n  " : ",\n  ") << nlohmann::json(object.object).dump() << ": "
          << (format.replicas ? object_json(object) : nlohmann::ordered_json(state)).dump();
    } else {
      const auto replicas = format.replicas ? replicas_text(object) : std::string();
      if (object.stub_missing_on.empty()) {
        fmt::print(out, "{}  {}{}{}\n", object.object, state, restore_text(object), replicas);
      } else {
        fmt::print(out,
                   "{}  {}{}{} (stub missing on {}: recall rebuilds it)\n",
                   object.object,
                   state,
                   restore_text(object),
                   replicas,
                   fmt::join(object.stub_missing_on, ", "));
      }
    }
    if (!object.stub_missing_on.empty() && stubs_missing.size() < 20) {
      stubs_missing.push_back({{"object", object.object}, {"devices", object.stub_missing_on}});
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
  if (json) {
    nlohmann::json counts = nlohmann::json::object();
    for (const auto state : k_object_states) {
      counts[std::string(to_string(state))] = summary.per_state[static_cast<std::size_t>(state)];
    }
    open_document();
    out << (first ? "}" : "\n}") << ",\n\"summary\": "
        << nlohmann::json{{"objects", summary.objects},
                          {"states", counts},
                          {"replica_errors", summary.with_errors},
                          {"stubs_missing", summary.with_stub_missing}}
             .dump()
        << ",\n\"errors\": " << errors.dump() << ",\n\"stubs_missing\": " << stubs_missing.dump()
        << "}\n";
  } else {
    out << summary_line(summary) << '\n';
  }
  return summary;
}

} // namespace hlm::ctl
