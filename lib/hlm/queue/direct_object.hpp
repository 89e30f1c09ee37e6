#pragma once

#include <hlm/core/swift_timestamp.hpp>
#include <hlm/queue/direct_container.hpp>
#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/swift/http.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::queue {

// Objects deleted directly on the object servers that the object ring of
// their storage policy names, one DELETE per primary, as Swift's proxy
// sends them: http://<ip>:<port>/<device>/<partition>/<account>/<container>/<object>.
// The queue needs it for SwiftHLM's failed entries, which SwiftHLM's
// dispatcher stored as real zero-byte objects (see RequestQueue::clear_failed).
// Requests go to the primaries one after the other, each limited to
// k_request_timeout. Messages name nodes as ip:port/device.
class DirectObjectClient
{
public:
  static constexpr std::chrono::milliseconds k_request_timeout{15'000};

  // Reads the object rings from `swift_dir` when first needed. `http` and
  // `secret` must outlive the client.
  DirectObjectClient(swift::HttpClient& http,
                     std::filesystem::path swift_dir,
                     const ring::HashSecret& secret);

  // The object ring of `policy_index` (object.ring.gz for 0,
  // object-N.ring.gz otherwise), loaded once. hlm::ConfigError when it
  // cannot be read.
  const ring::Ring& object_ring(int policy_index);

  // One DELETE of `account/container/name` as of `timestamp` on one object
  // server, for the object in `policy_index`. Never throws for what the
  // server or the network did; the reply says it.
  NodeReply delete_on(const ring::Device& node,
                      std::uint32_t partition,
                      std::string_view account,
                      std::string_view container,
                      std::string_view name,
                      const SwiftTimestamp& timestamp,
                      int policy_index);

  // Deletes the object as of `timestamp` on every primary of its policy's
  // object ring. A server that answers 2xx removed an older version; 404
  // says it holds none (never stored, or already deleted): both count as
  // done. 409 (it holds a version at least as new, which stays), 507,
  // 5xx or no answer do not. Returns the number of primaries done, at
  // least a majority (replicas / 2 + 1); throws hlm::TransportError
  // (transient) naming each failing node below that, hlm::ConfigError when
  // the ring cannot be read.
  int delete_object(std::string_view account,
                    std::string_view container,
                    std::string_view name,
                    const SwiftTimestamp& timestamp,
                    int policy_index);

  // Stores `body` as object `account/container/name` as of `timestamp` on
  // every primary of its policy's object ring (Content-Length, ETag: its
  // MD5, so a server checks what it got; no container update: whoever
  // writes directly keeps the listing itself). Returns the number of
  // primaries that stored it (201), at least a majority; below that,
  // throws hlm::TransportError (transient) naming each failing node. What
  // the others stored stays, as after a proxy PUT that missed quorum.
  int put_object(std::string_view account,
                 std::string_view container,
                 std::string_view name,
                 std::string_view body,
                 std::string_view content_type,
                 const SwiftTimestamp& timestamp,
                 int policy_index);

  // The body of the object from the first primary, in ring order, that
  // has it whole (200, and its ETag matches the body's MD5); nullopt when
  // every primary answers 404 (never stored, or deleted). Throws
  // hlm::TransportError (transient) naming each node when no primary gave
  // it and some failed otherwise (no answer, 5xx, a wrong ETag).
  std::optional<std::string> get_object(std::string_view account,
                                        std::string_view container,
                                        std::string_view name,
                                        int policy_index);

private:
  swift::HttpClient& m_http;
  std::filesystem::path m_swift_dir;
  const ring::HashSecret& m_secret;
  std::map<int, ring::Ring> m_rings; // policy index -> object ring
};

} // namespace hlm::queue
