#pragma once

#include <hlm/core/swift_timestamp.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/ring/hash_path.hpp>
#include <hlm/ring/ring.hpp>
#include <hlm/swift/http.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::queue {

// One row of a container listing.
struct Row
{
  std::string name;
  std::string content_type; // as the listing shows it (parameters normalized)
  SwiftTimestamp timestamp; // from last_modified: the time, never an offset
  std::uint64_t bytes = 0;  // the object's size, as the row lists it
};

struct ListOptions
{
  std::string prefix;
  std::size_t limit = 10'000; // rows per page and replica, 1 to 10,000 (Swift's maximum)
};

// What one storage server (container or object) said to one request.
struct NodeReply
{
  std::string node;  // "ip:port/device"
  int status = 0;    // 0: no HTTP response
  std::string error; // why, for a failure (status line or transport error)
  // The answer's X-Backend-Storage-Policy-Index, when it had one.
  std::optional<std::string> policy_index;

  bool
  ok() const
  {
    return status >= 200 && status < 300;
  }
};

// Listing rows of one account's containers, read and written directly on
// the container servers that the container ring names, as Swift's own
// daemons (object expirer, container reconciler) keep their queues in
// hidden accounts: http://<ip>:<port>/<device>/<partition>/<account>/<container>/<name>.
// A row is only a name, a timestamp and a content type; no object exists
// behind it. Requests go to the primaries one after the other, each limited
// to k_request_timeout (connecting is limited by the HttpClient's options).
// Messages name nodes as ip:port/device; there are no credentials here.
class DirectContainerClient
{
public:
  static constexpr std::chrono::milliseconds k_request_timeout{15'000};
  // A server that made a row write or delete wait at least
  // k_slow_no_answer for no answer (a timeout: frozen, blackholed, cut
  // off) is not asked again for k_no_answer_suppression; its replies say
  // so. The same holds for a listing page (list_rows): a replica whose
  // page took that long and failed is left out of listings for as long
  // (the others list every row written with a majority). Otherwise every later row would cost the
  // full timeout again (a frozen server accepts TCP but never answers), and settling a batch writes
  // a few rows per request. Swift's proxy error-limits nodes the same way; the container
  // replicators bring the rows there later. A refusal that costs nothing is just retried.
  static constexpr std::chrono::seconds k_no_answer_suppression{60};
  static constexpr std::chrono::milliseconds k_slow_no_answer{1'000};

  // Keeps references to all three; they must outlive the client.
  DirectContainerClient(swift::HttpClient& http,
                        const ring::Ring& container_ring,
                        const ring::HashSecret& secret,
                        std::string account = std::string(k_queue_account));

  const std::string&
  account() const
  {
    return m_account;
  }

  std::uint32_t partition(std::string_view container) const;
  // The primary container servers of `container`, in ring order.
  std::vector<const ring::Device*> nodes(std::string_view container) const;
  // A majority of the primaries: replicas / 2 + 1.
  int quorum(std::string_view container) const;

  // One row write or delete on one server; never throws for what the
  // server or the network did, the reply says it. With
  // `content_type_timestamp`, the write is a content-type update as Swift's
  // object servers send one after a POST (X-Content-Type-Timestamp): the
  // server keeps the row's data (existence included) from whichever of the
  // stored row and `timestamp` is newer, and its content type from whichever
  // content-type time is newer. A listing then shows the newer of the two
  // times as last_modified.
  NodeReply put_row_on(const ring::Device& node,
                       std::string_view container,
                       std::string_view name,
                       const SwiftTimestamp& timestamp,
                       std::string_view content_type,
                       const std::optional<SwiftTimestamp>& content_type_timestamp = std::nullopt);
  NodeReply delete_row_on(const ring::Device& node,
                          std::string_view container,
                          std::string_view name,
                          const SwiftTimestamp& timestamp);

  // The storage policy index of `container`, which every row written to or
  // deleted from it carries (a row whose index differs from its
  // container's is hidden from listings as misplaced): what the first
  // primary that knows the container says (a direct HEAD, as Swift's
  // direct_client does), remembered for the client's lifetime. 0 when no
  // primary has the container yet (the first row PUT creates it with
  // policy 0, as Swift's own daemons create their queue containers), not
  // remembered then, nor when no primary answered.
  int policy_index(std::string_view container);

  // Writes the row (zero size, the container's policy index) to every
  // primary; returns how many accepted it (2xx).
  int put_row(std::string_view container,
              std::string_view name,
              const SwiftTimestamp& timestamp,
              std::string_view content_type);
  // put_row that counts only with a quorum: returns the number of
  // acceptances (at least quorum()), or throws hlm::TransportError (transient)
  // naming each failing node and its status or error.
  int put_row_quorum(std::string_view container,
                     std::string_view name,
                     const SwiftTimestamp& timestamp,
                     std::string_view content_type,
                     const std::optional<SwiftTimestamp>& content_type_timestamp = std::nullopt);
  // put_row_quorum for a row that lists a real object (one stored on the
  // object servers without a container update, as DirectObjectClient
  // writes it): the row carries the object's size and ETag.
  int put_object_row_quorum(std::string_view container,
                            std::string_view name,
                            const SwiftTimestamp& timestamp,
                            std::string_view content_type,
                            std::uint64_t size,
                            std::string_view etag);
  // Deletes the row as of `timestamp` on every primary: a row newer than
  // `timestamp` survives. Servers answer 204 whether or not the row exists.
  // Returns the number of acceptances, or throws hlm::TransportError below
  // quorum, like put_row_quorum.
  int delete_row(std::string_view container,
                 std::string_view name,
                 const SwiftTimestamp& timestamp);

  // Streams the rows of `container` merged over all primaries: each name
  // once, in byte order, with the newest timestamp seen and its content
  // type. Pages through every replica (at most one page per replica held in
  // memory). A replica without the container (404) contributes nothing; a
  // replica that fails (no response, 5xx, 507, bad JSON) is left out from
  // then on. Throws hlm::TransportError when every replica failed. Stops
  // early when `on_row` returns false.
  void list_rows(std::string_view container,
                 const ListOptions& options,
                 const std::function<bool(const Row&)>& on_row);

private:
  std::string url(const ring::Device& node,
                  std::string_view container,
                  std::string_view name) const;
  swift::HttpRequest row_put_request(const ring::Device& node,
                                     std::string_view container,
                                     std::string_view name,
                                     const SwiftTimestamp& timestamp,
                                     std::string_view content_type,
                                     std::uint64_t size,
                                     std::string_view etag);
  // send_to with the no-answer suppression above.
  NodeReply send_row(const ring::Device& node, const swift::HttpRequest& request);
  // Why `label` is not asked now (a recent no-answer), or nullopt.
  std::optional<std::string> suppressed(const std::string& label,
                                        std::chrono::steady_clock::time_point now);
  int write_quorum(std::string_view what,
                   std::string_view container,
                   std::string_view name,
                   const std::vector<NodeReply>& replies) const;

  swift::HttpClient& m_http;
  const ring::Ring& m_ring;
  const ring::HashSecret& m_secret;
  std::string m_account;
  std::map<std::string, int, std::less<>> m_policy_index; // container -> index
  // node_label -> (when it last gave no answer, what happened)
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::string>> m_no_answer;
};

// "ip:port/device", the way messages name a storage server.
std::string node_label(const ring::Device& node);

// The direct-protocol URL of a container (`name` empty) or of one name in
// it on one server, as Swift's direct_client builds it:
// http://<ip>:<port>/<device>/<partition>/<account>/<container>[/<name>],
// percent-encoded, "." and ".." segments spelled so that no client
// removes them. `name` may itself start with '/'.
std::string direct_url(const ring::Device& node,
                       std::uint32_t partition,
                       std::string_view account,
                       std::string_view container,
                       std::string_view name);
// One request to one server. Never throws for what the server or the
// network did: a status outside 2xx or no answer is in the reply.
NodeReply send_direct(swift::HttpClient& http,
                      const ring::Device& node,
                      const swift::HttpRequest& request);
// "node: error; node: error" for the replies that are not ok().
std::string describe_failures(const std::vector<NodeReply>& replies);

} // namespace hlm::queue
