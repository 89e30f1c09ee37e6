#pragma once

#include <hlm/ctl/error_lines.hpp>
#include <hlm/ctl/service.hpp>

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>

namespace hlm::ctl {

// The exit status of a status query in which `summary.with_errors` of
// `summary.objects` could not be answered by every replica: 0 none, 3 some
// (partial), 1 all.
int status_exit(const StatusSummary& summary);

// "5 objects: 2 resident, 3 migrated": the states that have objects, in
// the order resident, premigrated, migrated, unknown.
std::string summary_line(const StatusSummary& summary);

// SwiftHLM's answer to GET /hlm/v1/status/...: {"/a/c/o": "state", ...}
// on one line of `out`, as Python's json.dumps writes it, streamed round by
// round. An object a replica could not answer for is "unknown" there, as
// in SwiftHLM; the reasons go to `errors`. Throws what
// Service::status throws, with nothing written to `out` when it throws
// before the first object.
StatusSummary print_swifthlm_status(Service& service,
                                    const queue::Target& target,
                                    std::ostream& out,
                                    ErrorLines& errors);

// How hlmctl status prints: `json` the document below instead of lines;
// `replicas` (--replicas) each replica's state and whether the object is
// readable, not only the merged state.
struct StatusFormat
{
  bool json = false;
  bool replicas = false;
};

// hlmctl status's report, streamed: "OBJECT  STATE" lines and the summary
// line (with `replicas`: "OBJECT  STATE  readable|not-readable
// DEVICE@NODE=STATE ..."), or with `json` the document {"objects":
// {"/a/c/o": "state", ...}, "summary": {...}, "errors": [...],
// "stubs_missing": [...]} (the first 20 errors and missing stubs; the
// summary counts them all); with `replicas` each object's value is
// {"state", "readable", "replicas": [{"device", "node", "state"}]} instead
// (a replica's "node" only when known, "error": true when it could not
// answer). Replica errors go to `error_lines` without `json`. `answered` is called with the count
// so far before each object is printed. The document's opening is written with the first object (or
// at the end), so a refusal (403, 404) leaves `out` empty rather than half a document.
StatusSummary print_status(Service& service,
                           const queue::Target& target,
                           StatusFormat format,
                           std::ostream& out,
                           ErrorLines& error_lines,
                           const std::function<void(std::size_t answered)>& answered);

} // namespace hlm::ctl
