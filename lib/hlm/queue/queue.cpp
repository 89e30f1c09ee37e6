#include <hlm/queue/content_type.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>
#include <hlm/util/percent.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace hlm::queue {

namespace {

constexpr std::string_view k_reason_parameter = "reason=";
constexpr std::string_view k_attempts_parameter = "attempts=";
constexpr std::string_view k_retry_after_parameter = "retry_after=";
// Bounds past which a parameter is garbage rather than a count or a time:
// Swift's timestamps end before 10^10 s.
constexpr long long k_max_attempts_read = 1'000'000'000;
constexpr long long k_max_retry_after = 9'999'999'999;
constexpr std::string_view k_cut_marker = "...";

bool
is_continuation(unsigned char c)
{
  return (c & 0xc0) == 0x80;
}

// Only unreserved characters and "%XX" are left, all of them RFC 2616
// token characters, so Swift's content-type parser keeps the value whole.
std::string
encode_reason(std::string_view reason)
{
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  // The longest output that ends before a lead byte and leaves room for
  // the cut marker.
  std::size_t last_fit = 0;
  for (const char byte : reason) {
    const auto c = static_cast<unsigned char>(byte);
    if (!is_continuation(c) && out.size() <= k_max_reason_bytes - k_cut_marker.size()) {
      last_fit = out.size();
    }
    if (is_url_unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    }
  }
  if (out.size() <= k_max_reason_bytes) {
    return out;
  }
  // Cut before a lead byte, never inside a character.
  out.resize(last_fit);
  out += k_cut_marker;
  return out;
}

} // namespace

std::string_view
container_of(Which which)
{
  return which == Which::pending ? k_pending_container : k_failed_container;
}

std::string
failed_content_type(std::string_view reason)
{
  if (reason.empty()) {
    return std::string(k_entry_content_type);
  }
  return fmt::format("{}; {}{}", k_entry_content_type, k_reason_parameter, encode_reason(reason));
}

std::optional<std::string>
reason_of(std::string_view content_type)
{
  const auto value = parameter_of(content_type, k_reason_parameter);
  if (!value) {
    return std::nullopt;
  }
  std::string reason = percent_decode(*value);
  if (!is_valid_utf8(reason)) {
    reason = printable(reason);
  }
  return reason;
}

std::string
retry_parameters(const RetryState& state)
{
  if (state.attempts <= 0) {
    return {};
  }
  std::string parameters = fmt::format("; {}{}", k_attempts_parameter, state.attempts);
  if (state.retry_after) {
    parameters += fmt::format("; {}{}", k_retry_after_parameter, *state.retry_after);
  }
  if (state.reason && !state.reason->empty()) {
    parameters += fmt::format("; {}{}", k_reason_parameter, encode_reason(*state.reason));
  }
  return parameters;
}

std::string
pending_content_type(const RetryState& state)
{
  return std::string(k_entry_content_type) + retry_parameters(state);
}

RetryState
retry_state_of(std::string_view content_type)
{
  RetryState state;
  state.attempts = static_cast<int>(
    number_parameter(content_type, k_attempts_parameter, k_max_attempts_read).value_or(0));
  state.retry_after = number_parameter(content_type, k_retry_after_parameter, k_max_retry_after);
  state.reason = reason_of(content_type);
  return state;
}

bool
is_row_only(std::string_view content_type)
{
  return media_type_of(content_type) == k_entry_content_type;
}

std::optional<std::chrono::system_clock::time_point>
parse_submitted(std::string_view submitted)
{
  using namespace std::chrono;
  if (submitted.size() != 18 || submitted[14] != '.') {
    return std::nullopt;
  }
  const auto field = [&](std::size_t pos, std::size_t size) -> std::optional<int> {
    const auto text = submitted.substr(pos, size);
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return static_cast<int>(*parse_int(text));
  };
  const auto y = field(0, 4), mo = field(4, 2), d = field(6, 2), h = field(8, 2), mi = field(10, 2),
             s = field(12, 2), ms = field(15, 3);
  if (!y || !mo || !d || !h || !mi || !s || !ms || *h > 23 || *mi > 59 || *s > 59) {
    return std::nullopt;
  }
  const year_month_day date{year{*y},
                            month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok()) {
    return std::nullopt;
  }
  return time_point_cast<system_clock::duration>(sys_days{date} + hours{*h} + minutes{*mi}
                                                 + seconds{*s} + milliseconds{*ms});
}

ListedEntry
as_listed_entry(const ListedList& list)
{
  ListedEntry listed;
  listed.row = list.row;
  listed.entry = list.entry;
  listed.decode_error = list.decode_error;
  listed.list = list.progress.value_or(ListProgress{});
  return listed;
}

ListedList
as_listed_list(const ListedEntry& listed)
{
  return {listed.row, listed.entry, listed.decode_error, listed.list};
}

RequestQueue::RequestQueue(swift::HttpClient& http,
                           const std::filesystem::path& swift_dir,
                           std::string account)
  : RequestQueue(http, swift_dir, ring::load_swift_conf(swift_dir), std::move(account))
{
}

RequestQueue::RequestQueue(swift::HttpClient& http,
                           const std::filesystem::path& swift_dir,
                           ring::SwiftConf swift_conf,
                           std::string account)
  : m_swift_conf(std::move(swift_conf)),
    m_secret{m_swift_conf.hash_path_prefix, m_swift_conf.hash_path_suffix},
    m_ring(ring::Ring::load(ring::container_ring_path(swift_dir))),
    m_direct(http, m_ring, m_secret, std::move(account)),
    m_objects(http, swift_dir, m_secret)
{
}

std::string
RequestQueue::submit(const Entry& entry,
                     std::optional<std::size_t> copies,
                     std::optional<int> priority,
                     std::optional<int> days)
{
  std::string name = encode_entry(entry);
  submit_row(
    k_pending_container,
    name,
    SwiftTimestamp::now(),
    with_days(with_priority(with_copies(std::string(k_entry_content_type), copies), priority),
              days));
  return name;
}

void
RequestQueue::submit_row(std::string_view container,
                         const std::string& name,
                         const SwiftTimestamp& timestamp,
                         std::string_view content_type)
{
  const auto nodes = m_direct.nodes(container);
  std::vector<NodeReply> written;
  for (const auto* node : nodes) {
    written.push_back(m_direct.put_row_on(*node, container, name, timestamp, content_type));
  }
  const auto accepted = std::count_if(written.begin(), written.end(), [](const NodeReply& r) {
    return r.ok();
  });
  const std::ptrdiff_t quorum = m_direct.quorum(container);
  if (accepted >= quorum) {
    return;
  }
  // Below a quorum the row is still on the servers that took it, and a
  // listing would find it there: the request would run although the caller
  // was told it failed. So it is withdrawn from every primary, as of just
  // after its own time (a server that did not answer the write may hold it
  // too). Where a server that took it refuses the withdrawal, the request
  // stays queued and is reported so. (A server that answered neither is
  // taken as never written: down, or not asked at all; see send_row.)
  std::vector<NodeReply> withdrawn;
  bool may_remain = false;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    withdrawn.push_back(
      m_direct.delete_row_on(*nodes[i], container, name, timestamp.plus_offset(1)));
    may_remain = may_remain || (written[i].ok() && !withdrawn.back().ok());
  }
  const auto what = fmt::format(
    "request \"{}\": {} of {} container servers accepted, {} needed: {}",
    printable(name),
    accepted,
    written.size(),
    quorum,
    describe_failures(written));
  if (may_remain) {
    throw PartlyQueued(
      fmt::format("{}; it could not be withdrawn ({}), so it stays queued and will be "
                  "carried out",
                  what,
                  describe_failures(withdrawn)),
      name);
  }
  throw TransportError(fmt::format("not queued: {}", what), true);
}

void
RequestQueue::for_each(Which which,
                       const std::function<bool(const ListedEntry&)>& on_entry,
                       const ListOptions& options)
{
  m_direct.list_rows(container_of(which), options, [&](const Row& row) {
    ListedEntry listed;
    listed.row = row;
    try {
      listed.entry = decode_entry(row.name);
    } catch (const InputError& e) {
      listed.decode_error = e.what();
    }
    if (which == Which::failed) {
      listed.reason = reason_of(row.content_type).value_or(std::string());
    } else {
      listed.retry = retry_state_of(row.content_type);
    }
    return on_entry(listed);
  });
}

// A list request is written in three steps, each needing a majority: the
// manifest object, its row in hlm-lists (so that a manifest is never
// stored without a listing that names it), then the request's row. A
// failure before the request's row undoes the first steps (best effort; a
// manifest left behind is listed, and no row names it, so nothing works
// it) and queues nothing; the request's row is written as submit() writes
// one, with the same withdrawal below a majority.
std::string
RequestQueue::submit_list(const ListHeader& header,
                          std::string_view submitted,
                          std::string_view manifest,
                          std::uint64_t count,
                          std::optional<std::size_t> copies,
                          std::optional<int> priority,
                          std::optional<int> days)
{
  return submit_list_with_type(
    header,
    submitted,
    manifest,
    count,
    with_days(with_priority(with_copies(list_content_type({count, 0, 0}), copies), priority),
              days));
}

std::string
RequestQueue::submit_list_with_type(const ListHeader& header,
                                    std::string_view submitted,
                                    std::string_view manifest,
                                    std::uint64_t count,
                                    std::string_view content_type)
{
  const std::string id = make_list_id(submitted);
  std::string name = encode_entry(Entry{std::string(submitted),
                                        header.operation,
                                        Target{header.account, header.container, id},
                                        header.policy_index});
  const int lists_policy = m_direct.policy_index(k_lists_container);
  const auto timestamp = SwiftTimestamp::now();
  try {
    m_objects.put_object(m_direct.account(),
                         k_lists_container,
                         id,
                         manifest,
                         k_manifest_content_type,
                         timestamp,
                         lists_policy);
    m_direct.put_object_row_quorum(k_lists_container,
                                   id,
                                   timestamp,
                                   k_manifest_content_type,
                                   manifest.size(),
                                   to_hex(md5(manifest)));
  } catch (const TransportError& e) {
    try {
      delete_manifest(id);
    } catch (const Error&) {
      // Listed or not, no row names it.
    }
    throw TransportError(fmt::format("not queued: list of {} in \"{}/{}\": {}",
                                     counted(count, "object", "objects"),
                                     printable(header.account),
                                     printable(header.container),
                                     e.what()),
                         true);
  }
  submit_row(k_pending_lists_container, name, timestamp, content_type);
  return name;
}

void
RequestQueue::for_each_list(const std::function<bool(const ListedList&)>& on_list,
                            const ListOptions& options)
{
  m_direct.list_rows(k_pending_lists_container, options, [&](const Row& row) {
    ListedList listed;
    listed.row = row;
    try {
      listed.entry = decode_entry(row.name);
      if (!is_list_id(listed.entry->target.object)) {
        listed.decode_error = fmt::format("list row {} does not end in a list id",
                                          printable(row.name));
        listed.entry.reset();
      }
    } catch (const InputError& e) {
      listed.decode_error = e.what();
    }
    listed.progress = list_progress_of(row.content_type);
    return on_list(listed);
  });
}

std::uint64_t
RequestQueue::read_list(const ListedList& list,
                        const std::function<void(std::string_view name)>& on_name,
                        const std::function<void(std::uint64_t count)>& on_checked)
{
  if (!list.entry) {
    throw InputError(list.decode_error);
  }
  const std::string& id = list.entry->target.object;
  const auto manifest = m_objects.get_object(m_direct.account(),
                                             k_lists_container,
                                             id,
                                             m_direct.policy_index(k_lists_container));
  const std::string what = fmt::format("manifest {} of list request {}",
                                       id,
                                       printable(list.row.name));
  if (!manifest) {
    throw InputError(fmt::format("{} is missing", what));
  }
  // Checked whole first, names dropped: a manifest cut or corrupt in the
  // middle, or about another target, hands on no name at all.
  ManifestReader checker(what, [](std::string_view) {});
  checker.feed(*manifest);
  const std::uint64_t count = checker.finish();
  const ListHeader& header = *checker.header();
  if (header.operation != list.entry->operation || header.account != list.entry->target.account
      || header.container != list.entry->target.container
      || header.policy_index != list.entry->policy_index) {
    throw InputError(fmt::format("{} is about {} of \"{}/{}\" in policy {}, not what the row says",
                                 what,
                                 to_string(header.operation),
                                 printable(header.account),
                                 printable(header.container),
                                 header.policy_index));
  }
  if (on_checked) {
    on_checked(count);
  }
  ManifestReader reader(what, on_name);
  reader.feed(*manifest);
  return reader.finish();
}

void
RequestQueue::delete_manifest(std::string_view id)
{
  // The object before its listing row: a crash in between leaves a row
  // naming nothing, not a manifest nothing lists.
  const auto now = SwiftTimestamp::now();
  m_objects.delete_object(m_direct.account(),
                          k_lists_container,
                          id,
                          now,
                          m_direct.policy_index(k_lists_container));
  m_direct.delete_row(k_lists_container, id, now);
}

// A dequeue deletes the row as of the row's own timestamp plus offset 1,
// not as of "now". Last write wins per row on the container servers, and
// Swift orders T_1 after T but before any later time. So the delete
// certainly removes the version that was listed (T), yet can never remove a
// re-submission of the same name, which is written with a fresh, later
// time, even when this delete reaches a replica late or is retried after
// the re-submission. A delete as of "now" would silently drop a request
// re-submitted between our listing and our delete. (Swift's reconciler pops
// its queue the same way: slightly_later_timestamp.) Rows are only ever
// written with offset 0, so the time from the listing is the whole
// timestamp.
void
RequestQueue::complete(const Row& pending_row)
{
  m_direct.delete_row(k_pending_container, pending_row.name, pending_row.timestamp.plus_offset(1));
}

void
RequestQueue::complete_list(const ListedList& list)
{
  // The row first: a crash in between leaves a manifest no row names,
  // which nothing works (and which stays listed in hlm-lists), never a row
  // whose manifest is gone.
  m_direct.delete_row(k_pending_lists_container, list.row.name, list.row.timestamp.plus_offset(1));
  if (list.entry) {
    delete_manifest(list.entry->target.object);
  }
}

void
RequestQueue::fail_list(const ListedList& list, std::string_view reason)
{
  // Failed first, as fail() does.
  record_failure(list.row, reason);
  complete_list(list);
}

void
RequestQueue::put_row(Which which, std::string_view name, std::string_view content_type)
{
  m_direct.put_row_quorum(container_of(which), name, SwiftTimestamp::now(), content_type);
}

std::size_t
RequestQueue::sweep_manifests(std::chrono::seconds min_age, std::size_t limit)
{
  std::set<std::string> named;
  for_each_list([&](const ListedList& list) {
    if (list.entry) {
      named.insert(list.entry->target.object);
    }
    return true;
  });
  const SwiftTimestamp before = SwiftTimestamp(
    SwiftTimestamp::now().ticks() - min_age.count() * SwiftTimestamp::k_ticks_per_second);
  // Deleted once the listing is done, not while it pages.
  std::vector<std::string> orphans;
  m_direct.list_rows(k_lists_container, {}, [&](const Row& row) {
    if (row.timestamp < before && named.count(row.name) == 0) {
      orphans.push_back(row.name);
    }
    return orphans.size() < limit;
  });
  for (const auto& id : orphans) {
    delete_manifest(id);
  }
  return orphans.size();
}

void
RequestQueue::fail(const Row& pending_row, std::string_view reason)
{
  // Failed first: a crash in between leaves the request in both
  // containers, to be processed again, rather than in neither.
  record_failure(pending_row, reason);
  complete(pending_row);
}

void
RequestQueue::record_failure(const Row& pending_row, std::string_view reason)
{
  m_direct.put_row_quorum(k_failed_container,
                          pending_row.name,
                          SwiftTimestamp::now(),
                          failed_content_type(reason));
}

// A retry rewrites the pending row in place, and a complete() of the same
// row may race with it: two dispatchers can hold the same version (hosts
// set up to take the same share, or a long run still working on a version
// that the next run listed too), one finishing the request (complete() or
// fail(): a delete as of the listed time T plus offset 1) while the other's
// attempt failed.
// * A plain write as of "now" would outlive that delete: a request that
//   completed would come back to pending, to be run again or even moved to
//   the failed queue after it succeeded.
// * A plain write as of T would tie with the version it replaces, and Swift
//   keeps the stored row on a tie: the attempt would not be counted, and
//   the entry retried for ever.
// So the rewrite is what Swift's object servers send after a POST changed
// an object's content type: X-Timestamp is the row's data time, not
// advanced, and X-Content-Type-Timestamp is fresh. A container server
// merges the two apart (update_new_item_from_existing in
// swift/container/backend.py, and replication merges rows the same way):
// data and existence from the newer data time, the content type from the
// newer content-type time. Hence, on every replica and in any order:
// * a delete as of T_1 beats our data time (at most T): the row stays
//   deleted, a rewrite never resurrects it;
// * with no such delete, the row stays, with the new content type, since
//   our content-type time is newer than any before;
// * listings show the newest of a row's times, now the content-type time
//   T', so the next complete() deletes as of T'_1: that still removes the
//   row, and still loses to a re-submission (written later, as of "now").
//   T' has offset 0 like every time written here, so complete()'s rule
//   that a listed time is a whole timestamp holds.
// Once a content type was updated, no listing shows the data time. The
// submission time in the request id is a lower bound of it (hlmctl takes it
// before writing the row), so the data time sent is the smaller of that and
// the listed time: a lower data time serves as well as the exact one above
// (only a replica that never had the row creates it with that time, and
// replication then takes the others' newer data). The content-type time is
// the later of "now" and T plus 10 µs, so that a clock running behind the
// one that wrote T still moves the content type forward.
void
RequestQueue::retry_later(const ListedEntry& pending, const RetryState& state)
{
  // The copies a recall asked for, and the priority, stay with the row.
  rewrite_content_type(k_pending_container,
                       pending.row,
                       pending.entry,
                       with_parameters_of(pending_content_type(state), pending.row.content_type));
}

std::optional<ListedEntry>
RequestQueue::find(Which which, std::string_view name)
{
  std::optional<ListedEntry> found;
  ListOptions options;
  options.prefix = std::string(name);
  for_each(
    which,
    [&](const ListedEntry& listed) {
      if (listed.row.name == name) {
        found = listed;
      }
      return !found;
    },
    options);
  return found;
}

std::optional<ListedList>
RequestQueue::find_list(std::string_view name)
{
  std::optional<ListedList> found;
  ListOptions options;
  options.prefix = std::string(name);
  for_each_list(
    [&](const ListedList& list) {
      if (list.row.name == name) {
        found = list;
      }
      return !found;
    },
    options);
  return found;
}

void
RequestQueue::set_priority(const ListedEntry& pending, int priority)
{
  // Its other parameters kept; the priority is the one that changes.
  const std::string_view type = pending.row.content_type;
  std::string rewritten = with_priority(
    with_copies(pending_content_type(pending.retry), copies_of(type)),
    priority);
  rewritten = with_release(with_days(std::move(rewritten), days_of(type)), release_of(type));
  rewrite_content_type(k_pending_container, pending.row, pending.entry, rewritten);
}

void
RequestQueue::update_list_progress(const ListedList& list, const ListProgress& progress)
{
  rewrite_content_type(
    k_pending_lists_container,
    list.row,
    list.entry,
    // A list retried after a failed attempt (a spilled one,
    // hlm-dispatch(8)) keeps counting its attempts.
    with_parameters_of(list_content_type(progress)
                         + retry_parameters(retry_state_of(list.row.content_type)),
                       list.row.content_type));
}

void
RequestQueue::rewrite_content_type(std::string_view container,
                                   const Row& row,
                                   const std::optional<Entry>& entry,
                                   std::string_view content_type)
{
  SwiftTimestamp data_time = row.timestamp;
  if (entry) {
    if (const auto submitted = parse_submitted(entry->submitted)) {
      try {
        data_time = std::min(data_time, SwiftTimestamp::from_time(*submitted));
      } catch (const InputError&) {
        // Outside Swift's time range: keep the listed time.
      }
    }
  }
  const SwiftTimestamp content_type_time = std::max(SwiftTimestamp::now(),
                                                    SwiftTimestamp(row.timestamp.ticks() + 1));
  m_direct.put_row_quorum(container, row.name, data_time, content_type, content_type_time);
}

void
RequestQueue::park_undecodable(const Row& pending_row, std::string_view decode_error)
{
  fail(pending_row, fmt::format("cannot decode: {}", decode_error));
}

std::size_t
RequestQueue::clear_failed_before(const Target& target,
                                  Operation operation,
                                  std::string_view submitted)
{
  return clear_failed([&](const Entry& failed) {
    return failed.target == target && failed.operation == operation && failed.submitted < submitted;
  });
}

// SwiftHLM's dispatcher stored a failed entry as a zero-byte object
// (InternalClient.upload_object through an auth-less proxy pipeline) in a
// container it created through the proxy, so in the cluster's default
// policy then; the row's policy is that container's. Removing only the row
// would leave the object on the object servers for good, named by nothing.
// So such an entry is removed as two deletes, the object's first: a crash
// in between leaves the row, which still names the object for the next
// clearing, where the other order would leave an object nothing names.
//
// The object DELETE carries its own time, "now", not the row delete's T_1:
// * "now" is what Swift's proxy sends. The tombstone it leaves lives for
//   reclaim_age (a week by default) after its own time, and replication
//   hands it to a primary that missed the DELETE. A tombstone as of T_1, a
//   time perhaps months old, is reclaimed at once (cleanup_ondisk_files in
//   swift/obj/diskfile.py), and a missed primary would then replicate the
//   object back.
// * Nothing newer can be lost to "now": SwiftHLM gave every request its own
//   name and stored each failed one once, and hlm never stores objects.
// * So no X-Container-* headers (DirectObjectClient::delete_on), and the
//   row is deleted on its own: an object server's container update would
//   carry the DELETE's time, "now", and could remove a row written under
//   the same name after our listing (hlm failing that request anew), which
//   a delete as of T_1 never does (see complete()). The row delete also
//   needs a quorum of container servers before clearing goes on, where an
//   object server answers before its updates are done
//   (container_update_timeout) and leaves a failed one to the object
//   updater.
// Rows hlm or SwiftHLM's middleware wrote have no object (is_row_only), and
// get no object DELETE: an object server answers one with 404 but still
// writes a tombstone and its directories (DELETE in swift/obj/server.py),
// on every primary, for each row.
std::size_t
RequestQueue::clear_failed(const std::function<bool(const Entry&)>& superseded)
{
  std::size_t cleared = 0;
  for_each(Which::failed, [&](const ListedEntry& listed) {
    if (listed.entry && superseded(*listed.entry)) {
      if (!is_row_only(listed.row.content_type)) {
        m_objects.delete_object(m_direct.account(),
                                k_failed_container,
                                listed.row.name,
                                SwiftTimestamp::now(),
                                m_direct.policy_index(k_failed_container));
      }
      m_direct.delete_row(k_failed_container, listed.row.name, listed.row.timestamp.plus_offset(1));
      ++cleared;
    }
    return true;
  });
  return cleared;
}

bool
owned_by(std::string_view name, int processes, int process)
{
  if (processes < 0) {
    throw InputError(
      fmt::format("the number of processes must not be negative, not {}", processes));
  }
  const int divisor = processes == 0 ? 1 : processes;
  if (process < 0 || process >= divisor) {
    throw InputError(
      fmt::format("process {} is outside 0..{} for {} processes", process, divisor - 1, divisor));
  }
  // The digest as a 128-bit big-endian integer, reduced byte by byte:
  // (r * 256 + b) mod n stays below 2^40 for any int n.
  const auto digest = md5(name);
  const auto n = static_cast<std::uint64_t>(divisor);
  std::uint64_t remainder = 0;
  for (const auto byte : digest) {
    remainder = (remainder * 256 + byte) % n;
  }
  return remainder == static_cast<std::uint64_t>(process);
}

} // namespace hlm::queue
