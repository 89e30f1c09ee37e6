#pragma once

#include <hlm/ctl/submit.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/swift/client.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hlm::ctl {

// What `hlmctl cancel`, `retry` and `forget` did to one request, or why a
// name came to nothing.
struct ManageResult
{
  std::string given;  // the ID or TARGET as given
  std::string id;     // the request's id; empty when none was found
  std::string target; // its target (to_string), a list request's container
  // "cancelled", "retried", "forgotten"; empty with `error`.
  std::string done;
  // retry: the request queued for it (SubmitOutcome::already_queued: the
  // one pending), or nothing for a recall with its object on disk.
  std::optional<Submitted> requeued;
  std::optional<std::string> error;
  int http_status = 0; // a refusal's or absence's (404, 403), else 0
  // cancel: whether a dispatcher run that started after the request was
  // submitted is going on (it may be working the request: it stops at its
  // next round boundary), and when the latest such run started; nullopt
  // when the queue could not say.
  std::optional<bool> maybe_worked;
  std::int64_t run_started = 0;
};

// An ID (a request id: decode_entry takes it) or a TARGET (parse_target),
// the caller's account filled in by `own_account`.
struct RequestName
{
  std::string given;
  std::optional<std::string> id;
  std::optional<queue::Target> target;
};
RequestName parse_request_name(const std::string& text,
                               const std::function<queue::Target(queue::Target)>& own_account);

// The requests of a queue that a name means: the request with that id, or
// those whose target is the TARGET or, for a container, in it (its own,
// its objects', its list requests). Each is touched only when the caller
// may read its container (one proxy HEAD per container): in the manner of
// `swift delete`, each name reported on its own.
//
// cancel: removes pending requests (a list request with its manifest). A
// dispatcher run already working one stops listing its objects at its next
// round boundary (hlm-dispatch(8)); objects already sent to the nodes
// finish, and nothing of its outcome is written back.
std::vector<ManageResult> cancel_requests(swift::Client& client,
                                          queue::RequestQueue& requests,
                                          const std::vector<RequestName>& names);
// retry: queues each failed request again through `submitter` (checked as
// a new one; the same request pending, or a recall on disk, as submit
// says), then removes the failed one. A list request that failed as a
// whole has no manifest left: it is refused.
std::vector<ManageResult> retry_requests(swift::Client& client,
                                         queue::RequestQueue& requests,
                                         Submitter& submitter,
                                         const std::vector<RequestName>& names);
// forget: removes failed requests without doing them again.
std::vector<ManageResult> forget_requests(swift::Client& client,
                                          queue::RequestQueue& requests,
                                          const std::vector<RequestName>& names);

} // namespace hlm::ctl
