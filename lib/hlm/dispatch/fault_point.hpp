#pragma once

#include <string_view>

namespace hlm::dispatch {

// Test hook, like the tapesim connector's HLM_TAPESIM_FAULT: with
// HLM_DISPATCH_FAULT=<point> in the environment, the process dies at once
// (_exit 86, leaving the queue as a SIGKILL would) the first time it
// reaches that point, so tests can stop a run between any two of its queue
// updates:
//   listed      the pending queue listed, nothing sent or written
//   sent        the nodes answered a round; no queue row updated for it
//   completed   right after the first complete() of the run
//   failed-put  inside a last failure: the failed row written, the
//               pending row not yet removed
//   retry-put   right after the first retry rewrite
//   object-row-put  a container request settled object by object: right
//               after its first failed object's own row
//   spill-put   a container request's failed objects spilled to lists:
//               right after the first list's row (with its retry state)
//   release-queued  a due restore expiry queued as a release, its
//               reminder not yet deleted
// A test hook only: not in the man page, not for operators.
void fault_point(std::string_view point);

} // namespace hlm::dispatch
