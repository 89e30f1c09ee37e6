#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/ctl/pending_index.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/queue/list_manifest.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/client.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm::ctl {

// "account/container" or "account/container/object" (a leading '/' is
// allowed; the object keeps any further '/'), or a bare "container" (no
// '/'), which leaves the account empty: the caller's own, as the `swift`
// client reads a name (Context fills it in). Throws hlm::InputError for
// anything else.
queue::Target parse_target(std::string_view text);
std::string to_string(const queue::Target& target);

// The storage policy of the target's container, as the caller sees it
// through the proxy. Throws hlm::SwiftError 404 when the container does
// not exist (403 and the like come from the client).
const ring::StoragePolicy& container_policy(swift::Client& client,
                                            const ring::SwiftConf& swift_conf,
                                            const queue::Target& target);

// Throws hlm::SwiftError 404 when the target's container does not exist
// for the caller (403 and the like come from the client).
void require_container(swift::Client& client, const queue::Target& target);

// For an object target: throws hlm::SwiftError 404 unless the object
// exists for the caller. Does nothing for a container target.
void require_object(swift::Client& client, const queue::Target& target);

// What became of a target submitted.
enum class SubmitOutcome {
  queued,         // a new request, `id`
  already_queued, // the same request was pending: `id` is that one's, nothing queued
  on_disk,        // a recall of an object whose replicas are on disk: nothing queued, no id
};

struct Submitted
{
  queue::Entry entry;
  std::string id; // the queue entry's name
  SubmitOutcome outcome = SubmitOutcome::queued;
  // already_queued with a higher --priority than the pending request's:
  // its priority was raised to this.
  std::optional<int> raised_to = std::nullopt;
};

// Whether the objects of one container exist, asked in byte order of
// their names (a sorted list): by one proxy HEAD each, or by a merge with
// the container's listing, whichever the container's size makes cheaper.
// Starts with HEADs and turns to the listing once the HEADs have cost as
// much as listing the whole container would (at most twice the cheaper
// way, without knowing how many targets are to come). An object the
// listing does not have is asked by HEAD before it is called missing (a
// listing may lag behind a new object); a listing the caller may not read
// leaves the HEADs.
class ObjectExistence
{
public:
  // What a listing page of n names costs, in HEADs: 1 + n / this.
  static constexpr std::uint64_t k_names_per_head = 500;
  static constexpr int k_page_names = 10'000;

  ObjectExistence(swift::Client& client,
                  std::string account,
                  std::string container,
                  std::uint64_t object_count);

  // Objects must come in byte order, each once.
  bool exists(const std::string& object);

  // At least `targets` objects are to be asked: when their HEADs would
  // cost as much as the listing, the listing from the start.
  void expect(std::uint64_t targets);

  std::uint64_t
  heads() const
  {
    return m_heads;
  }
  std::uint64_t
  pages() const
  {
    return m_pages;
  }

private:
  bool head(const std::string& object);
  bool listed(const std::string& object);
  void next_page();

  swift::Client& m_client;
  std::string m_account;
  std::string m_container;
  std::uint64_t m_budget; // HEADs before the listing is cheaper
  bool m_listing = false;
  bool m_listing_refused = false;
  std::vector<std::string> m_page; // the listing's current page
  std::size_t m_position = 0;
  bool m_last_page = false;
  std::string m_previous; // the object asked last
  std::string m_jump;     // just before the object looked for
  std::uint64_t m_heads = 0;
  std::uint64_t m_pages = 0;
};

// What a Submitter learned of a container through the proxy.
struct ContainerFacts
{
  int policy_index = 0;
  std::uint64_t object_count = 0;
};

// Queues requests on behalf of the caller that `client` authenticates.
class Submitter
{
public:
  Submitter(swift::Client& client,
            queue::RequestQueue& requests,
            const ring::SwiftConf& swift_conf);

  // The storage policy and object count of the target's container as the
  // caller sees it: one proxy HEAD per container and Submitter, a refusal
  // remembered for the targets that follow it. Throws hlm::SwiftError as
  // submit() does.
  ContainerFacts container(const queue::Target& target);

  // Throws hlm::SwiftError 404 unless the object target exists (checked by
  // ObjectExistence: the objects of one container in byte order share one
  // merge). `object_count`: its container's (container()). `expected`: how
  // many objects of the container at least are to be asked in this merge
  // (ObjectExistence::expect), when it starts with this one.
  void require(const queue::Target& target, std::uint64_t object_count, std::uint64_t expected = 0);

  // Checks through the proxy that the caller can see the container (and
  // object) and that they exist, learns the container's storage policy,
  // and writes one pending entry. Throws hlm::SwiftError (404 or 403, with
  // a message saying what is missing or forbidden) before anything is
  // queued. A container's policy is asked once per Submitter; so is a
  // refusal of the container (the targets of a sorted list come container
  // by container). The objects of one container, given one after another
  // in byte order (a sorted list), are checked by ObjectExistence.
  //
  // A request the same as one pending (PendingIndex: operation, target,
  // policy, copies) is not queued again: the pending one's id comes back,
  // SubmitOutcome::already_queued. A recall of an object that
  // `on_disk` (when set) says has enough replicas on disk for the copies
  // asked is not queued either: SubmitOutcome::on_disk.
  Submitted submit(Operation operation, const queue::Target& target);

  // Whether an object's replicas on disk already serve a recall of
  // `copies` (unset: hlm.conf's recall_copies); asked for recalls of
  // objects not pending.
  using OnDisk =
    std::function<bool(const queue::Target& target, std::optional<std::size_t> copies)>;
  void
  set_on_disk(OnDisk on_disk)
  {
    m_on_disk = std::move(on_disk);
  }

  // The copies later recall entries ask for (`hlmctl recall --copies`),
  // stored in their rows; unset: none stored (hlm.conf's recall_copies).
  void
  set_copies(std::optional<std::size_t> copies)
  {
    m_copies = copies;
  }
  const std::optional<std::size_t>&
  copies() const
  {
    return m_copies;
  }
  // The priority later requests are queued with (`--priority`); unset:
  // none stored (the operation's default).
  void
  set_priority(std::optional<int> priority)
  {
    m_priority = priority;
  }
  const std::optional<int>&
  priority() const
  {
    return m_priority;
  }
  // The restore days later recall entries ask for (`hlmctl recall
  // --days`, already checked against max_restore_days), stored in their
  // rows; unset: none (the recalled copies stay until migrated).
  void
  set_days(std::optional<int> days)
  {
    m_days = days;
  }
  const std::optional<int>&
  days() const
  {
    return m_days;
  }

  queue::RequestQueue&
  requests()
  {
    return m_requests;
  }

private:
  // Writes the row of a checked target in a container of `policy_index`.
  Submitted enqueue(Operation operation, const queue::Target& target, int policy_index);

  swift::Client& m_client;
  queue::RequestQueue& m_requests;
  const ring::SwiftConf& m_swift_conf;
  // (account, container) → (policy index, object count)
  std::map<std::pair<std::string, std::string>, std::pair<int, std::uint64_t>> m_containers;
  // The last container refused, and why.
  std::pair<std::string, std::string> m_refused;
  std::string m_refusal;
  int m_refusal_status = 0;
  // The objects of the container of the last target asked.
  std::pair<std::string, std::string> m_checked;
  std::unique_ptr<ObjectExistence> m_existence;
  std::string m_last_object;
  std::optional<std::size_t> m_copies;
  std::optional<int> m_priority;
  std::optional<int> m_days;
  PendingIndex m_pending;
  OnDisk m_on_disk;
};

// A list request ready to be queued (BulkSubmitter::queue).
struct ListBatch
{
  queue::ListHeader header;
  std::string submitted; // format_submitted's form
  std::string manifest;  // a ManifestWriter's whole output
  std::uint64_t count = 0;
};

// Queues the objects of one container as list requests (list_manifest.hpp)
// instead of one row each: a container at a time, its objects in byte
// order, each checked as Submitter checks it and written to a manifest of
// at most `max_manifest_bytes`; a longer run of names makes several lists.
// Memory: one manifest.
class BulkSubmitter
{
public:
  // `min_objects`: hlm.conf's list_min_objects (0: never lists); the
  // caller decides when a container has that many. `max_manifest_bytes`
  // other than queue::k_max_manifest_bytes is for tests.
  BulkSubmitter(Submitter& submitter,
                std::size_t min_objects,
                std::size_t max_manifest_bytes = queue::k_max_manifest_bytes);

  std::size_t
  min_objects() const
  {
    return m_min_objects;
  }

  // Starts the lists of the target's container (its object, if any, is not
  // added or checked) for `operation`, dropping names added and not yet
  // handed out.
  // Throws hlm::SwiftError when the caller cannot see the container
  // (Submitter::container), hlm::InputError for status.
  void start(Operation operation, const queue::Target& target);
  // Throws hlm::SwiftError 404 unless the object of the started container
  // exists (Submitter::require: objects in byte order share one merge,
  // which knows that at least min_objects are to come).
  void check(const queue::Target& target);
  // Adds an object of the started container (checked), after those added
  // before it in byte order. When its name would take the manifest past
  // the limit, returns the list of the names before it, and the object
  // starts the next list.
  std::optional<ListBatch> add(const queue::Target& target);

  // The list of the names added since the last list handed out, if any.
  std::optional<ListBatch> finish();
  // Queues a list (RequestQueue::submit_list; a recall with the
  // Submitter's copies) and returns its request id. Throws what
  // submit_list throws: hlm::TransportError when not queued,
  // queue::PartlyQueued when queued with a warning.
  std::string queue(const ListBatch& batch);

private:
  void open();
  ListBatch close();

  Submitter& m_submitter;
  std::size_t m_min_objects;
  std::size_t m_max_manifest_bytes;
  std::optional<queue::ListHeader> m_header;
  std::uint64_t m_object_count = 0; // the container's
  ListBatch m_batch;
  std::string m_last_submitted; // of the last list opened
  std::unique_ptr<queue::ManifestWriter> m_writer;
};

} // namespace hlm::ctl
