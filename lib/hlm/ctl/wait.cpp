#include <hlm/ctl/requests.hpp>
#include <hlm/ctl/wait.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <thread>
#include <utility>

namespace hlm::ctl {

namespace {

// The ids of `wanted` that are in the queue `which`, with what their rows say.
void
present(queue::RequestQueue& requests,
        queue::Which which,
        const std::set<std::string>& wanted,
        std::vector<QueuedRequest>& found)
{
  if (wanted.empty()) {
    return;
  }
  requests.for_each(which, [&](const queue::ListedEntry& listed) {
    if (wanted.count(listed.row.name) != 0) {
      found.push_back({listed.row.name, which, listed.reason.value_or(""), listed.retry});
    }
    // Names sort by submission time: past the newest id, none can follow.
    return listed.row.name <= *wanted.rbegin();
  });
}

// The first reasons a failed list request shows.
constexpr std::uint64_t k_list_reasons_shown = 3;

// Which requests leave per-object rows behind when their own row is gone.
enum class Spawner { list, container };

// The part of the names of the per-object rows a request leaves behind
// that is the same for all of them: a list request's row name without its
// list id; a container request's (settled object by object) with '/'
// added. Nothing for an object request or a name that does not decode.
std::optional<std::pair<std::string, Spawner>>
object_rows_prefix(const std::string& id)
{
  try {
    const auto object = queue::decode_entry(id).target.object;
    if (object.empty()) {
      return std::pair{id + "/", Spawner::container};
    }
    if (!queue::is_list_id(object)) {
      return std::nullopt;
    }
  } catch (const InputError&) {
    return std::nullopt;
  }
  return std::pair{id.substr(0, id.rfind('/') + 1), Spawner::list};
}

// Where list or container request `id`, its row gone, stands by the
// per-object rows the dispatcher left with its prefix: pending while any of
// them is pending (to be retried), failed (how many, the first reasons)
// when any failed, else done (nullopt).
std::optional<QueuedRequest>
objects_left(queue::RequestQueue& requests,
             const std::string& id,
             const std::string& prefix,
             Spawner spawner)
{
  queue::ListOptions options;
  options.prefix = prefix;
  std::optional<QueuedRequest> pending;
  requests.for_each(
    queue::Which::pending,
    [&](const queue::ListedEntry& listed) {
      pending = QueuedRequest{id, queue::Which::pending, "", listed.retry};
      return false;
    },
    options);
  if (pending) {
    return pending;
  }
  // Failed objects to retry beyond [dispatch] max_failed_objects went to
  // list requests of their own under the same prefix (hlm-dispatch(8)).
  requests.for_each_list(
    [&](const queue::ListedList& list) {
      pending =
        QueuedRequest{id, queue::Which::pending, "", queue::retry_state_of(list.row.content_type)};
      return false;
    },
    options);
  if (pending) {
    return pending;
  }
  std::uint64_t failed = 0;
  std::string reasons;
  requests.for_each(
    queue::Which::failed,
    [&](const queue::ListedEntry& listed) {
      if (++failed <= k_list_reasons_shown) {
        const auto reason = listed.reason.value_or("");
        reasons += fmt::format("{}{}: {}",
                               failed == 1 ? "" : "; ",
                               printable(listed.row.name.substr(prefix.size())),
                               reason.empty() ? "(none recorded)" : reason);
      }
      return true;
    },
    options);
  if (failed == 0) {
    return std::nullopt;
  }
  return QueuedRequest{
    id,
    queue::Which::failed,
    fmt::format("{} failed{}: {}",
                spawner == Spawner::list
                  ? counted(failed, "object of the list", "objects of the list")
                  : counted(failed, "object of the container", "objects of the container"),
                failed > k_list_reasons_shown
                  ? fmt::format(" (first {} shown)", k_list_reasons_shown)
                  : std::string(),
                reasons),
    {}};
}

} // namespace

std::vector<QueuedRequest>
look_up(queue::RequestQueue& requests, const std::set<std::string>& ids)
{
  std::vector<QueuedRequest> found;
  if (ids.empty()) {
    return found;
  }
  present(requests, queue::Which::pending, ids, found);
  requests.for_each_list([&](const queue::ListedList& list) {
    if (ids.count(list.row.name) != 0) {
      found.push_back({list.row.name, queue::Which::pending, "", {}, list.progress});
    }
    return list.row.name <= *ids.rbegin();
  });
  std::set<std::string> left = ids;
  for (const auto& request : found) {
    left.erase(request.id);
  }
  // A list or container request whose row is gone: its objects the
  // dispatcher left in the queue.
  for (auto it = left.begin(); it != left.end();) {
    const auto prefix = object_rows_prefix(*it);
    if (!prefix) {
      ++it;
      continue;
    }
    if (auto request = objects_left(requests, *it, prefix->first, prefix->second)) {
      found.push_back(std::move(*request));
      it = left.erase(it);
    } else if (prefix->second == Spawner::list) {
      // A list failed as a whole has its failed row under the prefix too.
      it = left.erase(it);
    } else {
      ++it; // a container request failed whole: its own failed row
    }
  }
  present(requests, queue::Which::failed, left, found);
  return found;
}

WaitResult
wait_for(const LookUp& look,
         const std::vector<std::string>& ids,
         const WaitOptions& options,
         const std::function<void(const WaitProgress&)>& progress,
         const std::function<bool()>& interrupted)
{
  const auto start = std::chrono::steady_clock::now();
  const std::set<std::string> all(ids.begin(), ids.end());
  std::set<std::string> pending = all;
  WaitResult result;
  for (;;) {
    std::set<std::string> still;
    std::size_t retrying = 0;
    std::uint64_t list_objects = 0;
    std::uint64_t list_objects_done = 0;
    result.failed.clear();
    std::set<std::string> failed;
    for (auto& found : look(all)) {
      if (found.which == queue::Which::pending) {
        still.insert(found.id);
        retrying += found.retry.attempts > 0 ? 1 : 0;
        if (found.list) {
          list_objects += found.list->count;
          list_objects_done += found.list->done;
        }
      } else if (failed.insert(found.id).second) {
        result.failed.emplace_back(std::move(found.id), std::move(found.reason));
      }
    }
    pending = std::move(still);
    // Every id not pending any more: failed, or done.
    std::size_t left = 0;
    for (const auto& id : all) {
      left += pending.count(id) == 0 ? 1 : 0;
    }
    result.done = left - result.failed.size();
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
    if (progress) {
      progress({all.size(),
                pending.size(),
                retrying,
                result.failed.size(),
                elapsed,
                list_objects,
                list_objects_done});
    }
    if (pending.empty()) {
      return result;
    }
    auto nap = options.interval;
    if (options.timeout) {
      if (elapsed >= *options.timeout) {
        result.timed_out = true;
        break;
      }
      nap = std::min(nap, *options.timeout - elapsed); // one last look at the timeout
    }
    // Sleep in short steps, so an interrupt is seen at once.
    const auto until = std::chrono::steady_clock::now() + nap;
    while (std::chrono::steady_clock::now() < until) {
      if (interrupted && interrupted()) {
        result.interrupted = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (result.interrupted) {
      break;
    }
  }
  result.pending.assign(pending.begin(), pending.end());
  return result;
}

std::vector<std::string>
pending_for(queue::RequestQueue& requests, const queue::Target& target)
{
  std::vector<std::string> ids;
  requests.for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
    if (listed.entry && queue::concerns(*listed.entry, target)) {
      ids.push_back(listed.row.name);
    }
    return true;
  });
  requests.for_each_list([&](const queue::ListedList& list) {
    if (list_concerns(requests, list, target)) {
      ids.push_back(list.row.name);
    }
    return true;
  });
  return ids;
}

} // namespace hlm::ctl
