#include <hlm/ctl/manage.hpp>
#include <hlm/dispatch/plan.hpp>
#include <hlm/dispatch/run_marker.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace hlm::ctl {

namespace {

// Whether `entry` is the TARGET's or, for a container TARGET, in it.
bool
within(const queue::Entry& entry, const queue::Target& target)
{
  if (entry.target.account != target.account || entry.target.container != target.container) {
    return false;
  }
  return target.object.empty() || entry.target.object == target.object;
}

// What a request's target is called: a list request's is its container.
std::string
target_of(const queue::ListedEntry& listed)
{
  queue::Target target = listed.entry->target;
  if (listed.list) {
    target.object.clear();
  }
  return to_string(target);
}

// The caller's access to containers, asked once per container.
class Access
{
public:
  explicit Access(swift::Client& client)
    : m_client(client)
  {
  }

  // Empty when the caller may read the container of `target`, else the
  // refusal (message, status).
  std::optional<std::pair<std::string, int>>
  refusal(const queue::Target& target)
  {
    const auto key = std::make_pair(target.account, target.container);
    const auto known = m_known.find(key);
    if (known != m_known.end()) {
      return known->second;
    }
    std::optional<std::pair<std::string, int>> refused;
    try {
      queue::Target container = target;
      container.object.clear();
      require_container(m_client, container);
    } catch (const SwiftError& e) {
      refused = std::make_pair(std::string(e.what()), e.http_status());
    }
    m_known.emplace(key, refused);
    return refused;
  }

private:
  swift::Client& m_client;
  std::map<std::pair<std::string, std::string>, std::optional<std::pair<std::string, int>>> m_known;
};

// The rows of `which` (for pending also the list requests) that `name`
// means, in name order.
std::vector<queue::ListedEntry>
matching(queue::RequestQueue& requests, queue::Which which, const RequestName& name)
{
  std::vector<queue::ListedEntry> found;
  queue::ListOptions options;
  if (name.id) {
    options.prefix = *name.id;
  }
  const auto take = [&](const queue::ListedEntry& listed) {
    if (!listed.entry) {
      return true; // an undecodable row: hlm-dispatch parks it
    }
    if (name.id ? listed.row.name == *name.id : within(*listed.entry, *name.target)) {
      found.push_back(listed);
    }
    return true;
  };
  requests.for_each(which, take, options);
  if (which == queue::Which::pending) {
    requests.for_each_list(
      [&](const queue::ListedList& list) { return take(queue::as_listed_entry(list)); },
      options);
  }
  return found;
}

ManageResult
nothing_found(const RequestName& name, std::string_view what)
{
  ManageResult result;
  result.given = name.given;
  result.error = name.id ? fmt::format("no {} request {}", what, printable(*name.id))
                         : fmt::format("no {} request for {}", what, printable(name.given));
  result.http_status = 404;
  return result;
}

// Calls `act` for each request `names` mean in `which` that the caller may
// touch; reports the others.
std::vector<ManageResult>
for_each_named(swift::Client& client,
               queue::RequestQueue& requests,
               queue::Which which,
               const std::vector<RequestName>& names,
               const std::function<void(const queue::ListedEntry&, ManageResult&)>& act)
{
  Access access(client);
  std::vector<ManageResult> results;
  std::set<std::string> seen; // a request named twice is touched once
  const std::string_view what = which == queue::Which::pending ? "pending" : "failed";
  // Every name is looked up before any request is touched: a request that
  // two names mean is touched once, for the first.
  std::vector<std::vector<queue::ListedEntry>> matches;
  matches.reserve(names.size());
  for (const auto& name : names) {
    matches.push_back(matching(requests, which, name));
  }
  for (std::size_t n = 0; n < names.size(); ++n) {
    const auto& name = names[n];
    const auto& found = matches[n];
    if (found.empty()) {
      results.push_back(nothing_found(name, what));
      continue;
    }
    for (const auto& listed : found) {
      if (!seen.insert(listed.row.name).second) {
        continue;
      }
      ManageResult result;
      result.given = name.given;
      result.id = listed.row.name;
      result.target = target_of(listed);
      if (const auto refused = access.refusal(listed.entry->target)) {
        result.error = refused->first;
        result.http_status = refused->second;
      } else {
        try {
          act(listed, result);
        } catch (const TransportError& e) {
          result.done.clear();
          result.error = e.what();
        }
      }
      results.push_back(std::move(result));
    }
  }
  return results;
}

using EntryKey = std::tuple<std::string, Operation, std::string, std::string, std::string, int>;

EntryKey
key_of(const queue::Entry& entry)
{
  return {entry.submitted,
          entry.operation,
          entry.target.account,
          entry.target.container,
          entry.target.object,
          entry.policy_index};
}

// Removes the failed rows `rows` (by decoded entry; one listing of the
// failed queue). When that fails, the results for them say so.
void
forget_rows(queue::RequestQueue& requests,
            const std::map<std::string, EntryKey>& rows,
            std::vector<ManageResult>& results)
{
  std::set<EntryKey> keys;
  for (const auto& [name, key] : rows) {
    keys.insert(key);
  }
  try {
    requests.clear_failed(
      [&](const queue::Entry& failed) { return keys.count(key_of(failed)) > 0; });
  } catch (const Error& e) {
    for (auto& result : results) {
      if (rows.count(result.id) > 0) {
        result.error = fmt::format("{}, but its failed row could not be removed: {}",
                                   result.done,
                                   e.what());
      }
    }
  }
}

} // namespace

RequestName
parse_request_name(const std::string& text,
                   const std::function<queue::Target(queue::Target)>& own_account)
{
  RequestName name;
  name.given = text;
  try {
    queue::decode_entry(text);
    name.id = text;
    return name;
  } catch (const InputError&) {
  }
  name.target = own_account(parse_target(text));
  return name;
}

namespace {

// Says of each cancelled request whether a dispatcher run that started
// after it was submitted is marked as going on (run_marker.hpp).
void
note_runs(queue::RequestQueue& requests, std::vector<ManageResult>& results)
{
  std::vector<dispatch::RunMarker> runs;
  try {
    runs = dispatch::running(requests);
  } catch (const Error&) {
    return; // maybe_worked stays unknown
  }
  for (auto& result : results) {
    if (result.done.empty()) {
      continue;
    }
    std::optional<std::int64_t> submitted;
    try {
      submitted = dispatch::submitted_seconds(queue::decode_entry(result.id).submitted);
    } catch (const InputError&) {
    }
    result.maybe_worked = false;
    for (const auto& run : runs) {
      if (!submitted || run.started >= *submitted) {
        result.maybe_worked = true;
        result.run_started = std::max(result.run_started, run.started);
      }
    }
  }
}

} // namespace

std::vector<ManageResult>
cancel_requests(swift::Client& client,
                queue::RequestQueue& requests,
                const std::vector<RequestName>& names)
{
  auto results = for_each_named(client,
                                requests,
                                queue::Which::pending,
                                names,
                                [&](const queue::ListedEntry& listed, ManageResult& result) {
                                  if (listed.list) {
                                    requests.complete_list(queue::as_listed_list(listed));
                                  } else {
                                    requests.complete(listed.row);
                                  }
                                  result.done = "cancelled";
                                });
  note_runs(requests, results);
  return results;
}

std::vector<ManageResult>
retry_requests(swift::Client& client,
               queue::RequestQueue& requests,
               Submitter& submitter,
               const std::vector<RequestName>& names)
{
  std::map<std::string, EntryKey> retried;
  auto results = for_each_named(
    client,
    requests,
    queue::Which::failed,
    names,
    [&](const queue::ListedEntry& listed, ManageResult& result) {
      const auto& entry = *listed.entry;
      if (queue::is_list_id(entry.target.object)) {
        result.error = "a list request that failed as a whole has no list left to retry: queue "
                       "its objects again (hlmctl "
                       + std::string(to_string(entry.operation)) + " -f)";
        return;
      }
      try {
        result.requeued = submitter.submit(entry.operation, entry.target);
      } catch (const SwiftError& e) {
        result.error = e.what();
        result.http_status = e.http_status();
        return;
      } catch (const queue::PartlyQueued& e) {
        // Queued, and will run: the failed one can go.
        Submitted submitted;
        submitted.id = e.id();
        submitted.entry = queue::decode_entry(e.id());
        result.requeued = submitted;
      }
      retried.emplace(listed.row.name, key_of(entry));
      result.done = "retried";
    });
  if (!retried.empty()) {
    forget_rows(requests, retried, results);
  }
  return results;
}

std::vector<ManageResult>
forget_requests(swift::Client& client,
                queue::RequestQueue& requests,
                const std::vector<RequestName>& names)
{
  std::map<std::string, EntryKey> forgotten;
  auto results = for_each_named(client,
                                requests,
                                queue::Which::failed,
                                names,
                                [&](const queue::ListedEntry& listed, ManageResult& result) {
                                  forgotten.emplace(listed.row.name, key_of(*listed.entry));
                                  result.done = "forgotten";
                                });
  if (!forgotten.empty()) {
    forget_rows(requests, forgotten, results);
  }
  return results;
}

} // namespace hlm::ctl
