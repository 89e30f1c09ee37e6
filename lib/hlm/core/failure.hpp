#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hlm {

// Why an object, a replica or a whole node could not be worked. The kind
// decides what the dispatcher does with it, never the message's text.
enum class FailureKind {
  // The node could not be reached, or its connection broke or timed out.
  unreachable,
  // The node's hlm-handler ran but failed as a whole: its configuration,
  // its ring, a handler that crashed or answered what nobody can read.
  node,
  // The backend failed the replica (a drive, a cartridge, a full library).
  backend,
  // The replica is not where the ring says (not yet replicated there, a
  // replaced disk, quarantined): Swift's replicator may bring it back.
  missing,
  // The object is deleted (a tombstone). Asking again gives the same
  // answer.
  deleted,
  // The request itself is wrong (a name or a document the node refuses).
  // Asking again gives the same answer.
  rejected,
};

// Every kind, in declaration order.
inline constexpr FailureKind k_failure_kinds[] = {FailureKind::unreachable,
                                                  FailureKind::node,
                                                  FailureKind::backend,
                                                  FailureKind::missing,
                                                  FailureKind::deleted,
                                                  FailureKind::rejected};

// A failure as it travels from a connector to the queue.
struct Failure
{
  FailureKind kind = FailureKind::backend;
  // Worth another attempt later: the same request may then succeed.
  bool transient = true;
  // What went wrong, for people: where (node, device) and why.
  std::string message;
  // The storage node (its ring IP) the failure is about; empty when it is
  // about no node in particular (a listing, a ring, a queue).
  std::string node = {};

  bool operator==(const Failure&) const = default;
};

// A failure of `kind` with the kind's usual transience: deleted and
// rejected are permanent, the others transient.
Failure make_failure(FailureKind kind, std::string message, std::string node = {});

// The kind's name in documents and reports: "unreachable", "node",
// "backend", "missing", "deleted", "rejected".
std::string_view to_string(FailureKind kind);
std::optional<FailureKind> parse_failure_kind(std::string_view text);

// Whether failures of `kind` are transient unless their source says
// otherwise.
bool transient_by_default(FailureKind kind);

} // namespace hlm
