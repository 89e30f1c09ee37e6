#include <hlm/dispatch/list_work.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace hlm::dispatch {

ListWork::ListWork(queue::RequestQueue& requests,
                   const config::HlmConf& conf,
                   UnixClock clock,
                   DispatchReport& report,
                   Say say,
                   Notify notify)
  : m_requests(requests),
    m_conf(conf),
    m_clock(std::move(clock)),
    m_report(report),
    m_say(std::move(say)),
    m_notify(std::move(notify))
{
}

void
ListWork::read(std::size_t index,
               const queue::ListedEntry& listed,
               const std::function<void(std::string path)>& add)
{
  State& state = m_lists[index];
  state.list = queue::as_listed_list(listed);
  const auto& target = listed.entry->target;
  state.base = fmt::format("/{}/{}/", target.account, target.container);
  state.saved = listed.list.value_or(queue::ListProgress{});
  state.progress = state.saved;
  state.attempts = listed.retry.attempts;
  bool checked = false;
  std::uint64_t seen = 0; // names read, done or not
  try {
    m_requests.read_list(
      state.list,
      [&](std::string_view name) {
        // A list stopped (a row it could not write) takes no more objects.
        if (seen++ >= state.saved.done && !state.left_pending && !state.cancelled) {
          add(state.base + std::string(name));
        }
      },
      [&](std::uint64_t count) {
        checked = true;
        // The manifest's count is the truth; a row that says more done
        // than it holds has nothing left.
        state.progress.count = count;
        state.progress.done = std::min(state.progress.done, count);
        state.progress.failed = std::min(state.progress.failed, state.progress.done);
      });
  } catch (const InputError& e) {
    if (checked) {
      state.left_pending = e.what();
    } else {
      state.refused = e.what();
    }
  } catch (const Error& e) {
    // The object servers cannot say: next run.
    state.left_pending = fmt::format("cannot read its manifest: {}", e.what());
  }
}

void
ListWork::object(std::size_t index,
                 const std::string& path,
                 const std::vector<ReplicaOutcome>& replicas)
{
  State& state = m_lists.at(index);
  if (state.left_pending || state.cancelled) {
    return; // stopped before this object: the next run works it again
  }
  EntryFailures failures;
  for (const auto& replica : replicas) {
    failures.add_replica();
    if (replica.failure) {
      failures.add(*replica.failure, path);
    }
  }
  if (failures.failed()) {
    if (!still_pending(state)) {
      return;
    }
    if (!record_object(state, std::string_view(path).substr(state.base.size()), failures)) {
      save_progress(state);
      return;
    }
    ++state.progress.failed;
  }
  ++state.progress.done;
  if (state.progress.done < state.progress.count
      && state.progress.done - state.saved.done >= m_conf.batch_size) {
    if (still_pending(state)) {
      save_progress(state);
    }
  }
}

bool
ListWork::still_pending(State& state)
{
  if (state.checked) {
    return true;
  }
  bool found = false;
  try {
    found = m_requests.find_list(state.list.row.name).has_value();
  } catch (const Error&) {
    return true; // cannot tell: as if pending
  }
  state.checked = found;
  state.cancelled = !found;
  return found;
}

bool
ListWork::record_object(State& state, std::string_view object, const EntryFailures& failures)
{
  const queue::Entry& list = *state.list.entry;
  const Settlement settlement = decide(failures, state.attempts, m_conf, m_clock());
  if (settlement.verdict == Verdict::retry && state.retry_rows >= m_conf.max_failed_objects) {
    return spill_object(state, object, settlement);
  }
  try {
    const std::string name = object_row_name(list, std::string(object));
    if (settlement.verdict == Verdict::retry) {
      m_requests.put_row(queue::Which::pending,
                         name,
                         queue::with_parameters_of(queue::pending_content_type(settlement.retry),
                                                   state.list.row.content_type));
      ++state.to_retry;
      ++state.retry_rows;
    } else {
      m_requests.put_row(queue::Which::failed, name, queue::failed_content_type(settlement.reason));
      ++state.to_failed;
    }
  } catch (const TransportError& e) {
    state.left_pending = fmt::format("cannot queue the failure of {}{}: {}",
                                     printable(state.base),
                                     printable(object),
                                     e.what());
    m_say(fmt::format("list {}: {}; it stays pending from there",
                      printable(state.list.row.name),
                      *state.left_pending));
    return false;
  } catch (const InputError& e) {
    // Not an entry name (a manifest only holds names that make one): said,
    // and counted failed, since nothing can hold it.
    m_say(fmt::format("list {}: cannot record the failure of {}{} ({}): {}",
                      printable(state.list.row.name),
                      printable(state.base),
                      printable(object),
                      e.what(),
                      settlement.reason));
  }
  return true;
}

bool
ListWork::spill_object(State& state, std::string_view object, const Settlement& settlement)
{
  if (state.spill_lost) {
    return false;
  }
  try {
    if (!state.spill) {
      state.spill = std::make_unique<ListSpiller>(m_requests,
                                                  *state.list.entry,
                                                  state.list.row.content_type,
                                                  settlement.retry);
    }
    state.spill->add(std::string(object));
  } catch (const Error& e) {
    lose_spill(state, e);
    return false;
  }
  ++state.to_retry;
  return true;
}

bool
ListWork::flush_spill(State& state)
{
  if (state.spill_lost) {
    return false;
  }
  if (!state.spill) {
    return true;
  }
  try {
    state.spill->flush();
  } catch (const Error& e) {
    lose_spill(state, e);
    return false;
  }
  return true;
}

// A list written so far could not be queued: its objects are in no queue,
// so the list stops here and keeps its saved progress.
void
ListWork::lose_spill(State& state, const Error& error)
{
  state.spill_lost = true;
  state.spill.reset();
  state.left_pending = fmt::format("cannot queue its failed objects as a list: {}", error.what());
  m_say(fmt::format("list {}: {}; it stays pending from its last saved progress",
                    printable(state.list.row.name),
                    *state.left_pending));
}

void
ListWork::save_progress(State& state)
{
  // The spilled objects queued first: a saved progress never counts an
  // object that is in no queue.
  if (state.progress == state.saved || !flush_spill(state)) {
    return;
  }
  state.checked = false;
  try {
    m_requests.update_list_progress(state.list, state.progress);
    state.saved = state.progress;
  } catch (const TransportError& e) {
    // The row keeps its older progress: a later run works those objects
    // again (their rows rewritten), none is lost.
    m_say(fmt::format("list {}: cannot save its progress ({} of {} objects): {}",
                      printable(state.list.row.name),
                      state.progress.done,
                      state.progress.count,
                      e.what()));
  }
}

void
ListWork::not_sent(std::size_t index, const queue::ListedEntry& listed, std::string why)
{
  State& state = m_lists[index];
  state.list = queue::as_listed_list(listed);
  state.saved = listed.list.value_or(queue::ListProgress{});
  state.progress = state.saved;
  state.left_pending = std::move(why);
}

bool
ListWork::finish(std::size_t index)
{
  const auto it = m_lists.find(index);
  if (it == m_lists.end()) {
    return false; // never sent: nothing to settle
  }
  const bool stays = end_list(it->second);
  m_lists.erase(it);
  return stays;
}

bool
ListWork::end_list(State& state)
{
  const std::string name = printable(state.list.row.name);
  if (state.cancelled) {
    try {
      m_requests.complete_list(state.list); // its manifest
    } catch (const Error&) {
      // The sweep removes it a day later.
    }
    m_say(fmt::format("list {} was cancelled while this run worked it ({} of {} objects done): "
                      "nothing more written back",
                      name,
                      state.progress.done,
                      state.progress.count));
    ++m_report.cancelled;
    return false;
  }
  if (state.refused) {
    try {
      m_requests.fail_list(state.list, *state.refused);
      m_say(fmt::format("list {} failed: {}", name, *state.refused));
      ++m_report.failed;
      if (m_notify && state.list.entry) {
        auto document = completion_document(state.list.row.name, *state.list.entry, "failed");
        document["reason"] = *state.refused;
        m_notify(std::move(document));
      }
      return false;
    } catch (const Error& e) {
      state.left_pending = fmt::format("{}; cannot fail it: {}", *state.refused, e.what());
    }
  }
  if (!state.left_pending && state.progress.done >= state.progress.count && flush_spill(state)) {
    return end_worked(state);
  }
  save_progress(state);
  m_say(fmt::format("list {} stays pending at {} of {} objects: {}",
                    name,
                    state.progress.done,
                    state.progress.count,
                    state.left_pending.value_or("not every object was worked")));
  ++m_report.retrying;
  return true;
}

bool
ListWork::end_worked(State& state)
{
  const std::string name = printable(state.list.row.name);
  try {
    m_requests.complete_list(state.list);
  } catch (const Error& e) {
    // Its last objects are worked again by the next run.
    save_progress(state);
    m_say(fmt::format("list {}: worked to its end but cannot be removed: {}", name, e.what()));
    ++m_report.retrying;
    return true;
  }
  m_say(fmt::format(
    "list {} done: {}, {} failed ({} to the failed queue, {} to retry{})",
    name,
    counted(state.progress.count, "object", "objects"),
    state.progress.failed,
    state.to_failed,
    state.to_retry,
    state.spill ? fmt::format(
      ", {} of them in {}",
      state.spill->objects(),
      counted(state.spill->lists(), "list request of their own", "list requests of their own"))
                : std::string()));
  if (m_notify && state.list.entry) {
    auto document = completion_document(state.list.row.name, *state.list.entry, "completed");
    document["objects"] = state.progress.count;
    document["objects_failed"] = state.progress.failed;
    m_notify(std::move(document));
  }
  // Failures of earlier runs (a list resumed) count as failed: whether they
  // wait for a retry is not known here.
  if (state.progress.failed > state.to_retry) {
    ++m_report.failed;
  } else if (state.to_retry > 0) {
    ++m_report.retrying;
  } else {
    ++m_report.completed;
  }
  return state.to_retry > 0;
}

} // namespace hlm::dispatch
