#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/queue/direct_container.hpp>
#include <hlm/queue/direct_object.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/util/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hlm::queue {

enum class Which { pending, failed };

std::string_view container_of(Which which);

// Where a pending entry stands after failed attempts, kept in its row's
// content type next to the type itself (see pending_content_type).
struct RetryState
{
  int attempts = 0; // failed attempts so far
  // Unix seconds before which the next attempt waits; unset: at once.
  std::optional<std::int64_t> retry_after;
  std::optional<std::string> reason; // why the last attempt failed

  bool operator==(const RetryState&) const = default;
};

// A listed queue row and what it says.
struct ListedEntry
{
  Row row;
  std::optional<Entry> entry;        // unset when the name does not decode
  std::string decode_error;          // why, when `entry` is unset
  std::optional<std::string> reason; // failed rows only ("" when none stored)
  RetryState retry;                  // pending rows only
  // Set for a list request (a row of pending-hlm-lists, as_listed_entry):
  // its progress, all zero when its content type does not say. Its
  // entry's target object is then the list id, not an object.
  std::optional<ListProgress> list;
};

// A pending list request (list_manifest.hpp) as its row in
// pending-hlm-lists says it.
struct ListedList
{
  Row row;
  std::optional<Entry>
    entry; // its target's object is the list id; unset when the name does not decode
  std::string decode_error;             // why, when `entry` is unset
  std::optional<ListProgress> progress; // unset when the content type is not a list row's
};

// A list request as a ListedEntry (its `list` set; progress all zero when
// the row does not say), so that the dispatcher plans it with the others,
// and back.
ListedEntry as_listed_entry(const ListedList& list);
ListedList as_listed_list(const ListedEntry& listed);

// Failure reasons are kept in the failed row's content type (rows have no
// body): "application/swifthlm-task; reason=<percent-encoded UTF-8>". The
// encoded reason is cut at k_max_reason_bytes, on a character boundary,
// and then ends in "...".
inline constexpr std::size_t k_max_reason_bytes = 2'000;
std::string failed_content_type(std::string_view reason);
// The reason in a content type as a listing shows it (Swift rewrites the
// parameters as ";reason=..."); nullopt when there is none. Invalid UTF-8
// or broken escapes come back escaped with printable().
std::optional<std::string> reason_of(std::string_view content_type);

// A pending row that failed an attempt and waits for another says so with
// parameters that Swift keeps as they are (digits, and the reason encoded
// as for failed rows):
// "application/swifthlm-task; attempts=N; retry_after=<unix seconds>;
// reason=<percent-encoded>". Attempts 0 is the plain type.
std::string pending_content_type(const RetryState& state);
// The parameters pending_content_type() appends to the type ("; attempts=N;
// ..."; empty for attempts 0), for a list row that carries them too.
std::string retry_parameters(const RetryState& state);
// The inverse, as tolerant as reason_of: a missing or malformed parameter
// (a row written by SwiftHLM or an older hlm has none) reads as its
// default, attempts 0 and no retry_after (ready now); never throws.
RetryState retry_state_of(std::string_view content_type);

// Whether a queue row is a listing row only, with no object behind it:
// its content type (parameters aside, case ignored) is
// application/swifthlm-task, as in every row hlm and SwiftHLM's middleware
// write directly. SwiftHLM's dispatcher instead stored failed entries as
// zero-byte objects through a proxy, which typed them by their name
// (application/octet-stream, text/plain, ...): false for those.
bool is_row_only(std::string_view content_type);

// When `submitted` (an entry's "YYYYmmddHHMMSS.mmm", UTC) was; nullopt when
// it is not a valid time.
std::optional<std::chrono::system_clock::time_point> parse_submitted(std::string_view submitted);

// The SwiftHLM request queue: rows of the hidden account ".swifthlm" on the
// container servers, written and listed with the direct protocol. Every
// write needs a majority of the container replicas (hlm::TransportError
// otherwise); listings merge all replicas.
// A submit that reached fewer than a quorum of container servers and could
// not be withdrawn from all of them: the request is queued (a listing
// finds it) and will be carried out.
class PartlyQueued : public Error
{
public:
  PartlyQueued(const std::string& what, std::string id)
    : Error(what),
      m_id(std::move(id))
  {
  }

  const std::string&
  id() const
  {
    return m_id;
  }

private:
  std::string m_id;
};

class RequestQueue
{
public:
  // Reads <swift_dir>/swift.conf (hash prefix and suffix) and
  // <swift_dir>/container.ring.gz; hlm::ConfigError when they are unusable.
  // Object rings are read from there when first needed (clear_failed).
  // `http` must outlive the queue. Another `account` (it must start with
  // '.', so that container servers create its databases on first write)
  // keeps a separate queue, e.g. for tests on a shared cluster.
  RequestQueue(swift::HttpClient& http,
               const std::filesystem::path& swift_dir,
               std::string account = std::string(k_queue_account));
  // The same with swift.conf as the caller already read it, so that a
  // process reads it once.
  RequestQueue(swift::HttpClient& http,
               const std::filesystem::path& swift_dir,
               ring::SwiftConf swift_conf,
               std::string account = std::string(k_queue_account));
  RequestQueue(const RequestQueue&) = delete;
  RequestQueue& operator=(const RequestQueue&) = delete;

  // Queues `entry` as pending; returns its row name, the request id.
  // hlm::InputError when the entry cannot be encoded. Below a quorum of
  // container servers the row is withdrawn again and hlm::TransportError
  // says "not queued"; where the withdrawal fails too, the request may
  // still run, and PartlyQueued says so, with the id.
  // `copies` (a recall's `--copies`) rides in the row's content type
  // (entry.hpp's copies parameter), kept when a failed attempt rewrites it.
  // `priority` (hlmctl --priority) rides there too; unset: the operation's
  // default when dispatched.
  // `days` (a recall's `--days`) rides there too (entry.hpp).
  std::string submit(const Entry& entry,
                     std::optional<std::size_t> copies = std::nullopt,
                     std::optional<int> priority = std::nullopt,
                     std::optional<int> days = std::nullopt);

  // Queues a list request: `manifest` is a ManifestWriter's whole output
  // for `header`, `count` names (at most k_max_manifest_bytes long, which
  // the caller ensures by starting another list). Stores the manifest
  // object and its listing row, then the request's row; returns the row
  // name, the request id. When the manifest cannot be stored or listed
  // with a majority, nothing is queued (hlm::TransportError "not queued",
  // the manifest deleted again as far as possible); the row is written as
  // submit() writes one (withdrawn below a majority; PartlyQueued).
  // `copies` (a recall's `--copies`) rides in the row's content type as
  // in submit(), kept by update_list_progress().
  std::string submit_list(const ListHeader& header,
                          std::string_view submitted,
                          std::string_view manifest,
                          std::uint64_t count,
                          std::optional<std::size_t> copies = std::nullopt,
                          std::optional<int> priority = std::nullopt,
                          std::optional<int> days = std::nullopt);
  // submit_list() with the row's whole content type given: a list whose
  // row carries more from its first write than submit_list's parameters,
  // such as the retry state of a list the dispatcher spills (ListSpiller),
  // so that no second write is needed for it.
  std::string submit_list_with_type(const ListHeader& header,
                                    std::string_view submitted,
                                    std::string_view manifest,
                                    std::uint64_t count,
                                    std::string_view content_type);
  // Streams the pending list requests in name order until `on_list`
  // returns false.
  void for_each_list(const std::function<bool(const ListedList&)>& on_list,
                     const ListOptions& options = {});
  // Reads a list request's manifest and hands its names to `on_name`, in
  // order; returns their number. hlm::InputError when the row does not
  // decode, the manifest is missing, refused by ManifestReader, or about
  // another operation, container or policy than the row;
  // hlm::TransportError when the object servers cannot say. The whole
  // manifest is checked before the first name is handed on (a refused one
  // hands on none); then `on_checked`, if set, is told the count. Errors
  // after that come from the callbacks.
  std::uint64_t read_list(const ListedList& list,
                          const std::function<void(std::string_view name)>& on_name,
                          const std::function<void(std::uint64_t count)>& on_checked = {});
  // Rewrites a list row's progress as retry_later() rewrites a row's
  // retry state (same name, the content type only; its copies kept).
  void update_list_progress(const ListedList& list, const ListProgress& progress);
  // Removes a list request worked to its end: its row as complete()
  // removes one, then its manifest object and the manifest's listing row.
  void complete_list(const ListedList& list);
  // Fails a list request as a whole (its row does not decode, its manifest
  // is refused): a failed row named as the list row, with `reason`, then
  // complete_list() (a row that does not decode names no manifest).
  void fail_list(const ListedList& list, std::string_view reason);

  // Deletes the manifests of hlm-lists that no row of pending-hlm-lists
  // names and whose listing row is older than `min_age`: left by a
  // submission that failed after storing its manifest, or by a removal that
  // stopped between the list's row and its manifest. At most `limit` per
  // call; returns how many. The rows are listed first, so a list queued
  // meanwhile has a manifest younger than `min_age` (a day is plenty).
  // hlm::TransportError when a listing or a delete reaches no majority.
  std::size_t sweep_manifests(std::chrono::seconds min_age, std::size_t limit = 1'000);

  // Writes a row named `name` as of now, with `content_type`, to a
  // majority of the primaries of the pending or failed container
  // (hlm::TransportError below that; the servers that took it keep it).
  // For the per-object rows a list request leaves for its failed objects:
  // failed_content_type(reason), or pending_content_type(retry state).
  void put_row(Which which, std::string_view name, std::string_view content_type);

  // Streams pending or failed entries in name order (which is submission
  // order for entries in the current form) until `on_entry` returns false.
  void for_each(Which which,
                const std::function<bool(const ListedEntry&)>& on_entry,
                const ListOptions& options = {});

  // The row of `which` named `name` (a request id), if it is there: one
  // listing of the rows that start with it.
  std::optional<ListedEntry> find(Which which, std::string_view name);
  // The same for a pending list request's row.
  std::optional<ListedList> find_list(std::string_view name);

  // Removes a pending row that was processed. See queue.cpp for why the
  // delete carries the row's own time plus an offset.
  void complete(const Row& pending_row);
  // Moves a pending row to the failed container with `reason`, then removes
  // it from pending as complete() does.
  void fail(const Row& pending_row, std::string_view reason);
  // fail() in its two steps, for a caller that wants to act in between:
  // the failed row written (with a quorum), the pending row still there.
  void record_failure(const Row& pending_row, std::string_view reason);
  // Leaves a pending entry that failed an attempt pending for another one,
  // its row (same name, so the request id stays) now saying `state`. It
  // changes only the row's content type: a complete() or fail() of the
  // same row by anyone, before or after, still removes it, and this never
  // brings back a row removed meanwhile. See queue.cpp for why.
  void retry_later(const ListedEntry& pending, const RetryState& state);
  // Gives a pending entry `priority`, as retry_later rewrites its retry
  // state (the content type only; its retry state and copies kept).
  void set_priority(const ListedEntry& pending, int priority);
  // fail() for a pending row whose name does not decode.
  void park_undecodable(const Row& pending_row, std::string_view decode_error);
  // After a success: removes failed entries for exactly `target` and
  // `operation` submitted before `submitted`. Returns how many.
  std::size_t clear_failed_before(const Target& target,
                                  Operation operation,
                                  std::string_view submitted);
  // clear_failed_before for many successes at once, with one listing of
  // the failed container: removes each failed entry for which
  // `superseded` says a later request for its target and operation
  // succeeded. Returns how many. An entry that is not is_row_only (one
  // SwiftHLM's dispatcher stored as an object) loses its object on the
  // object servers first (DirectObjectClient::delete_object, in the failed
  // container's policy), then its row. Throws hlm::TransportError when a
  // delete reaches no majority (that entry, and those listed after it,
  // stay), hlm::ConfigError when the object ring cannot be read.
  std::size_t clear_failed(const std::function<bool(const Entry&)>& superseded);

  // What the queue was built from: swift.conf (its storage policies), its
  // hash secret and the container ring (other accounts' containers are
  // listed with them too).
  const ring::SwiftConf&
  swift_conf() const
  {
    return m_swift_conf;
  }
  const ring::HashSecret&
  secret() const
  {
    return m_secret;
  }
  const ring::Ring&
  container_ring() const
  {
    return m_ring;
  }

  DirectContainerClient&
  direct()
  {
    return m_direct;
  }

private:
  // Writes a row to a majority of `container`'s primaries; below that,
  // withdraws it and throws as submit() says.
  void submit_row(std::string_view container,
                  const std::string& name,
                  const SwiftTimestamp& timestamp,
                  std::string_view content_type);
  // The content-type-only rewrite of retry_later() (see queue.cpp).
  void rewrite_content_type(std::string_view container,
                            const Row& row,
                            const std::optional<Entry>& entry,
                            std::string_view content_type);
  void delete_manifest(std::string_view id);

  ring::SwiftConf m_swift_conf;
  ring::HashSecret m_secret;
  ring::Ring m_ring;
  DirectContainerClient m_direct;
  DirectObjectClient m_objects;
};

// Splits the queue among `processes` dispatchers as Swift's object expirer
// splits its tasks: process `process` (0-based) owns the entries with
// int(md5(name).hexdigest(), 16) % processes == process. `processes` 0 or 1
// means one process owns everything. hlm::InputError for a negative count
// or a process number outside [0, processes).
bool owned_by(std::string_view name, int processes, int process);

} // namespace hlm::queue
