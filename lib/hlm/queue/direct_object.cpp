#include <hlm/queue/direct_object.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <string>

namespace hlm::queue {

namespace {

std::string
md5_hex(std::string_view data)
{
  return to_hex(md5(data));
}

struct ObjectName
{
  std::string_view account;
  std::string_view container;
  std::string_view name;
  int policy_index;
};

// Throws hlm::TransportError (transient) naming each failing node when
// fewer than a majority of the primaries (`replies`, one each) did it.
void
check_majority(std::string_view verb,
               std::string_view past,
               const ObjectName& object,
               int done,
               const std::vector<NodeReply>& replies)
{
  const int needed = static_cast<int>(replies.size() / 2 + 1);
  if (done >= needed) {
    return;
  }
  throw TransportError(fmt::format("cannot {} object \"{}/{}/{}\" (policy {}): {} of {} object "
                                   "servers {} it, {} needed: {}",
                                   verb,
                                   printable(object.account),
                                   printable(object.container),
                                   printable(object.name),
                                   object.policy_index,
                                   done,
                                   replies.size(),
                                   past,
                                   needed,
                                   describe_failures(replies)),
                       true);
}

} // namespace

DirectObjectClient::DirectObjectClient(swift::HttpClient& http,
                                       std::filesystem::path swift_dir,
                                       const ring::HashSecret& secret)
  : m_http(http),
    m_swift_dir(std::move(swift_dir)),
    m_secret(secret)
{
}

const ring::Ring&
DirectObjectClient::object_ring(int policy_index)
{
  if (const auto it = m_rings.find(policy_index); it != m_rings.end()) {
    return it->second;
  }
  return m_rings
    .emplace(policy_index, ring::Ring::load(ring::object_ring_path(m_swift_dir, policy_index)))
    .first->second;
}

NodeReply
DirectObjectClient::delete_on(const ring::Device& node,
                              std::uint32_t partition,
                              std::string_view account,
                              std::string_view container,
                              std::string_view name,
                              const SwiftTimestamp& timestamp,
                              int policy_index)
{
  swift::HttpRequest request;
  request.method = swift::Method::del;
  request.url = direct_url(node, partition, account, container, name);
  request.timeout = k_request_timeout;
  // No X-Container-Host/-Device/-Partition: without them the object server
  // sends no update to any container server (container_update in
  // swift/obj/server.py has no partition, so no targets, and queues no
  // async_pending). Whoever deletes directly keeps the listing itself.
  request.headers = {
    {"X-Timestamp", timestamp.internal()},
    {"X-Backend-Storage-Policy-Index", std::to_string(policy_index)},
    {"Content-Length", "0"},
  };
  return send_direct(m_http, node, request);
}

int
DirectObjectClient::delete_object(std::string_view account,
                                  std::string_view container,
                                  std::string_view name,
                                  const SwiftTimestamp& timestamp,
                                  int policy_index)
{
  const ring::Ring& ring = object_ring(policy_index);
  const std::uint32_t partition = ring.partition(
    ring::hash_path(m_secret, account, container, name));
  const auto nodes = ring.primary_nodes(partition);
  std::vector<NodeReply> replies;
  int done = 0;
  for (const auto* node : nodes) {
    NodeReply reply =
      delete_on(*node, partition, account, container, name, timestamp, policy_index);
    if (reply.status == 404) {
      // Nothing (left) to delete there: the outcome wanted. Cleared so
      // that describe_failures leaves it out.
      reply.status = 204;
      reply.error.clear();
    }
    done += reply.ok() ? 1 : 0;
    replies.push_back(std::move(reply));
  }
  check_majority("delete", "deleted", {account, container, name, policy_index}, done, replies);
  return done;
}

int
DirectObjectClient::put_object(std::string_view account,
                               std::string_view container,
                               std::string_view name,
                               std::string_view body,
                               std::string_view content_type,
                               const SwiftTimestamp& timestamp,
                               int policy_index)
{
  const ring::Ring& ring = object_ring(policy_index);
  const std::uint32_t partition = ring.partition(
    ring::hash_path(m_secret, account, container, name));
  const auto nodes = ring.primary_nodes(partition);
  swift::HttpRequest request;
  request.method = swift::Method::put;
  request.timeout = k_request_timeout;
  request.headers = {
    {"X-Timestamp", timestamp.internal()},
    {"X-Backend-Storage-Policy-Index", std::to_string(policy_index)},
    {"Content-Type", std::string(content_type)},
    {"Content-Length", std::to_string(body.size())},
    {"ETag", md5_hex(body)},
  };
  request.body.assign(body);
  std::vector<NodeReply> replies;
  int stored = 0;
  for (const auto* node : nodes) {
    request.url = direct_url(*node, partition, account, container, name);
    NodeReply reply = send_direct(m_http, *node, request);
    stored += reply.ok() ? 1 : 0;
    replies.push_back(std::move(reply));
  }
  check_majority("store", "stored", {account, container, name, policy_index}, stored, replies);
  return stored;
}

std::optional<std::string>
DirectObjectClient::get_object(std::string_view account,
                               std::string_view container,
                               std::string_view name,
                               int policy_index)
{
  const ring::Ring& ring = object_ring(policy_index);
  const std::uint32_t partition = ring.partition(
    ring::hash_path(m_secret, account, container, name));
  swift::HttpRequest request;
  request.method = swift::Method::get;
  request.timeout = k_request_timeout;
  request.headers = {{"X-Backend-Storage-Policy-Index", std::to_string(policy_index)}};
  std::vector<NodeReply> failures;
  for (const auto* node : ring.primary_nodes(partition)) {
    request.url = direct_url(*node, partition, account, container, name);
    NodeReply reply; // status 0: counted as failed
    reply.node = node_label(*node);
    try {
      auto response = m_http.send(request);
      if (response.status == 404) {
        continue;
      }
      // Swift's object server quotes the ETag ("..."); unquoted is taken too.
      auto etag = response.header("ETag");
      if (etag && etag->size() >= 2 && etag->front() == '"' && etag->back() == '"') {
        etag = etag->substr(1, etag->size() - 2);
      }
      if (response.status == 200 && etag && *etag == md5_hex(response.body)) {
        return std::move(response.body);
      }
      reply.error = response.status == 200 ? fmt::format("the body does not match its ETag {}",
                                                         printable(etag.value_or("(none)")))
                                           : fmt::format("HTTP {}", response.status);
    } catch (const TransportError& e) {
      reply.error = e.what();
    }
    failures.push_back(std::move(reply));
  }
  if (failures.empty()) {
    return std::nullopt;
  }
  throw TransportError(fmt::format("cannot read object \"{}/{}/{}\" (policy {}): {}",
                                   printable(account),
                                   printable(container),
                                   printable(name),
                                   policy_index,
                                   describe_failures(failures)),
                       true);
}

} // namespace hlm::queue
