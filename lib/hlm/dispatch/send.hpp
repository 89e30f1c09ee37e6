#pragma once

#include <hlm/core/failure.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/dispatch/list_work.hpp>
#include <hlm/dispatch/settle.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/http.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace hlm::dispatch {

// A storage policy's object ring, or why it cannot be used.
struct PolicyRing
{
  std::optional<ring::Ring> ring;
  std::optional<Failure> failure; // set when `ring` is not
};

// The object rings of the policies a run meets, each loaded once, when
// first asked for (even when FIFO makes a group per entry).
class PolicyRings
{
public:
  // `swift_conf` must outlive this object.
  PolicyRings(const ring::SwiftConf& swift_conf, std::filesystem::path swift_dir);

  // The policy's ring; a failure (transient: the operator may fix the
  // configuration before the next attempt) when swift.conf does not know
  // the policy or its ring cannot be read.
  const PolicyRing& get(int policy);

private:
  const ring::SwiftConf& m_swift_conf;
  std::filesystem::path m_swift_dir;
  std::map<int, PolicyRing> m_rings;
};

// Sends entries of one operation and policy to their nodes: an object
// entry as its object, a container entry as the objects a listing of the
// container servers streams, through a StreamingFanout (the listing goes
// on while the nodes work; `batch_size` replicas per document to a host),
// in the manner of ninja's Builder running what
// the Plan chose.
class Sender
{
public:
  // Called after every `batch_size` objects whose replicas have all
  // answered, and for the rest at the end, with their number.
  using OnRound = std::function<void(std::size_t objects)>;

  // `fanout`, `http` and `requests` (its container ring and hash secret
  // list the containers) must outlive the sender.
  // `recall_copies`: the copies a recall entry without a copies parameter
  // asks for (hlm.conf's recall_copies; queue::k_all_copies: every replica).
  Sender(const Fanout& fanout,
         swift::HttpClient& http,
         const queue::RequestQueue& requests,
         std::size_t batch_size,
         std::size_t recall_copies = SIZE_MAX);

  // Sends the entries `members` (indices into `pending`, decoded, of
  // `operation` and `policy`), their objects placed by `object_ring`. Each
  // replica's outcome, and a listing that fails, is recorded in
  // `failures[i]` of its entry i. A recall whose entries ask for fewer
  // copies than the ring has replicas runs as recall_copies() does
  // (recall_copies.hpp), round by round. A list request's objects (the
  // names `lists` reads from its manifest) go in the same stream, their
  // outcomes to `lists` one object at a time, not to `failures`; without
  // `lists`, list requests are not sent.
  void send(const HandlerWork& operation,
            int policy,
            const ring::Ring& object_ring,
            const std::vector<queue::ListedEntry>& pending,
            const std::vector<std::size_t>& members,
            std::vector<EntryFailures>& failures,
            const OnRound& on_round,
            ListWork* lists = nullptr) const;

  // Asked every `batch_size` objects of a container entry's listing whether
  // entry i (an index into `pending`) is still pending; false (hlmctl
  // cancel removed it) stops its listing there: the objects already handed
  // on finish, no more follow.
  void
  set_still_pending(std::function<bool(std::size_t)> still_pending)
  {
    m_still_pending = std::move(still_pending);
  }

private:
  // Hands `add` each object of the entries `members` (an object entry's
  // own, a container entry's from a listing of its container servers, a
  // list request's from `lists`), with its entry; a listing that fails is
  // recorded in `failures`.
  void list_objects(const std::vector<queue::ListedEntry>& pending,
                    const std::vector<std::size_t>& members,
                    std::vector<EntryFailures>& failures,
                    ListWork* lists,
                    const std::function<void(std::size_t, std::string)>& add) const;

  const Fanout& m_fanout;
  swift::HttpClient& m_http;
  const queue::RequestQueue& m_requests;
  std::size_t m_batch_size;
  std::size_t m_recall_copies;
  std::function<bool(std::size_t)> m_still_pending;
};

} // namespace hlm::dispatch
