#include <hlm/ctl/requests_report.hpp>
#include <hlm/util/utc_time.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include <ostream>

namespace hlm::ctl {

std::string
next_attempt_text(const std::optional<std::int64_t>& retry_after, std::int64_t now)
{
  using namespace std::chrono;
  if (!retry_after || *retry_after <= now) {
    return "the next run";
  }
  return format_utc(sys_seconds{seconds{*retry_after}}, "%Y-%m-%d %H:%M:%S UTC")
         + fmt::format(" (in {} s)", *retry_after - now);
}

namespace {

// ", priority N" (and ", --days N", or ", release of a restore expiry")
// after a pending request's submission time.
std::string
pending_details(const RequestLine& line)
{
  std::string text = fmt::format(", priority {}", line.priority);
  if (line.days) {
    text += fmt::format(", --days {}", *line.days);
  }
  if (line.release) {
    text += ", release of a restore expiry";
  }
  return text;
}

// A pending list request: its container, list id and progress.
void
print_list_line(const RequestLine& line, std::ostream& out)
{
  const queue::Target container{line.entry.target.account, line.entry.target.container, {}};
  fmt::print(out,
             "{:<8} {:<8} {}  list {}  submitted {}{}\n",
             "pending",
             to_string(line.entry.operation),
             to_string(container),
             line.entry.target.object,
             line.entry.submitted,
             pending_details(line));
  if (line.list) {
    fmt::print(out,
               "         {} of {} objects done, {} failed\n",
               line.list->done,
               line.list->count,
               line.list->failed);
  }
}

} // namespace

void
print_swifthlm_requests(Service& service, const queue::Target& target, std::ostream& out)
{
  nlohmann::json names = nlohmann::json::array();
  service.requests(target, [&](const RequestLine& line) {
    names.push_back(line.id + (line.which == queue::Which::failed ? "--failed" : "--pending"));
  });
  if (names.empty()) {
    names.push_back("There are no pending or failed SwiftHLM requests.");
  }
  std::string text = "[";
  for (const auto& name : names) {
    text += (text.size() > 1 ? ", " : "")
            + name.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  }
  out << text << "]" << std::flush;
}

std::size_t
print_requests(Service& service,
               const queue::Target& target,
               bool json,
               std::ostream& out,
               std::chrono::system_clock::time_point now)
{
  const auto now_seconds =
    std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  nlohmann::json doc = {{"pending", nlohmann::json::array()}, {"failed", nlohmann::json::array()}};
  const auto count = service.requests(target, [&](const RequestLine& line) {
    const bool failed = line.which == queue::Which::failed;
    if (json) {
      nlohmann::json item = {{"id", line.id},
                             {"operation", to_string(line.entry.operation)},
                             {"target", to_string(line.entry.target)},
                             {"policy_index", line.entry.policy_index},
                             {"submitted", line.entry.submitted}};
      if (line.is_list) {
        // The list id is the entry's last part; the target is the container.
        item["target"] = to_string(
          queue::Target{line.entry.target.account, line.entry.target.container, {}});
        item["list"] = line.entry.target.object;
        item["objects"] = line.list ? nlohmann::json(line.list->count) : nlohmann::json(nullptr);
        item["objects_done"] = line.list ? nlohmann::json(line.list->done)
                                         : nlohmann::json(nullptr);
        item["objects_failed"] = line.list ? nlohmann::json(line.list->failed)
                                           : nlohmann::json(nullptr);
      }
      if (failed) {
        item["reason"] = line.reason.value_or("");
      } else {
        // Failed attempts so far, when the next is due (unix seconds,
        // null: at the next run) and why the last one failed (null: none).
        item["attempts"] = line.retry.attempts;
        item["priority"] = line.priority;
        if (line.days) {
          item["days"] = *line.days;
        }
        if (line.release) {
          item["release"] = *line.release;
        }
        item["retry_after"] = line.retry.retry_after ? nlohmann::json(*line.retry.retry_after)
                                                     : nlohmann::json(nullptr);
        item["reason"] = line.retry.reason ? nlohmann::json(*line.retry.reason)
                                           : nlohmann::json(nullptr);
      }
      doc[failed ? "failed" : "pending"].push_back(item);
      return;
    }
    if (line.is_list) {
      print_list_line(line, out);
      return;
    }
    fmt::print(out,
               "{:<8} {:<8} {}  submitted {}{}\n",
               failed ? "failed" : "pending",
               to_string(line.entry.operation),
               to_string(line.entry.target),
               line.entry.submitted,
               failed ? std::string() : pending_details(line));
    if (failed && line.reason && !line.reason->empty()) {
      fmt::print(out, "         reason: {}\n", *line.reason);
    }
    if (!failed && line.retry.attempts > 0) {
      fmt::print(out,
                 "         {} failed, next attempt: {}\n",
                 line.retry.attempts == 1 ? std::string("1 attempt")
                                          : fmt::format("{} attempts", line.retry.attempts),
                 next_attempt_text(line.retry.retry_after, now_seconds));
      if (line.retry.reason && !line.retry.reason->empty()) {
        fmt::print(out, "         last reason: {}\n", *line.retry.reason);
      }
    }
  });
  if (json) {
    out << doc.dump(2) << '\n';
  } else if (count == 0) {
    fmt::print(out,
               "There are no pending or failed requests for {}.\n",
               target.container.empty() ? target.account : to_string(target));
  }
  return count;
}

} // namespace hlm::ctl
