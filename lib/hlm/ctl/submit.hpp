#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/client.hpp>

#include <cstdint>
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

struct Submitted
{
  queue::Entry entry;
  std::string id; // the queue entry's name
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
  // by container). The objects of one container, given one after another
  // in byte order (a sorted list), are checked by ObjectExistence.
  Submitted submit(Operation operation, const queue::Target& target);

  // The copies later recall entries ask for (`hlmctl recall --copies`),
  // stored in their rows; unset: none stored (hlm.conf's recall_copies).
  void
  set_copies(std::optional<std::size_t> copies)
  {
    m_copies = copies;
  }

private:
  void require(const queue::Target& target, std::uint64_t object_count);

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
};

} // namespace hlm::ctl
