#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/client.hpp>

#include <map>
#include <string>
#include <string_view>
#include <utility>

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

struct Submitted
{
  queue::Entry entry;
  std::string id; // the queue entry's name
};

// Queues requests on behalf of the caller that `client` authenticates.
class Submitter
{
public:
  Submitter(swift::Client& client,
            queue::RequestQueue& requests,
            const ring::SwiftConf& swift_conf);

  // Checks through the proxy that the caller can see the container (and
  // object) and that they exist, learns the container's storage policy,
  // and writes one pending entry. Throws hlm::SwiftError (404 or 403, with
  // a message saying what is missing or forbidden) before anything is
  // queued. A container's policy is asked once per Submitter; so is a
  // refusal of the container (the targets of a sorted list come container
  // by container).
  Submitted submit(Operation operation, const queue::Target& target);

private:
  swift::Client& m_client;
  queue::RequestQueue& m_requests;
  const ring::SwiftConf& m_swift_conf;
  std::map<std::pair<std::string, std::string>, int> m_policies; // (account, container) → index
  // The last container refused, and why.
  std::pair<std::string, std::string> m_refused;
  std::string m_refusal;
  int m_refusal_status = 0;
};

} // namespace hlm::ctl
