#include <hlm/queue/direct_container.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <optional>

namespace hlm::queue {

namespace {

// The etag of a row is not checked by the container server; the md5 of no
// bytes is honest for a zero-byte row.
constexpr std::string_view k_empty_etag = "d41d8cd98f00b204e9800998ecf8427e";
constexpr std::size_t k_body_excerpt = 200;
constexpr std::size_t k_max_listing_limit = 10'000;

// encode_path leaves '.' alone, and an HTTP client may remove "." and ".."
// segments from a URL (RFC 3986 5.2.4; libcurl does unless told
// otherwise), which would address a different row. Spelled %2E they stay;
// the server decodes them back.
std::string
protect_dot_segments(const std::string& encoded)
{
  std::string out;
  out.reserve(encoded.size());
  std::size_t start = 0;
  while (true) {
    const auto end = encoded.find('/', start);
    const auto segment = std::string_view(encoded).substr(
      start,
      end == std::string::npos ? std::string::npos : end - start);
    if (segment == "." || segment == "..") {
      for (std::size_t i = 0; i < segment.size(); ++i) {
        out += "%2E";
      }
    } else {
      out += segment;
    }
    if (end == std::string::npos) {
      break;
    }
    out += '/';
    start = end + 1;
  }
  return out;
}

std::string
describe(const swift::HttpResponse& response)
{
  std::string text = swift::status_text(response.status);
  std::string_view body = response.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) {
    body.remove_suffix(1);
  }
  if (!body.empty()) {
    const bool cut = body.size() > k_body_excerpt;
    text += fmt::format(" \"{}{}\"", printable(body.substr(0, k_body_excerpt)), cut ? "..." : "");
  }
  return text;
}

// One replica's listing, one page at a time.
struct Cursor
{
  const ring::Device* node = nullptr;
  std::string url; // the container on `node`, without a query
  std::vector<Row> page;
  std::size_t pos = 0;
  bool last_page = false; // no more pages after `page`
  bool failed = false;
  std::string failure;

  bool
  has_row() const
  {
    return !failed && pos < page.size();
  }
};

std::vector<Row>
parse_listing(const std::string& body, std::string_view marker)
{
  const auto json = nlohmann::json::parse(body);
  if (!json.is_array()) {
    throw InputError("the listing is not a JSON array");
  }
  std::vector<Row> rows;
  rows.reserve(json.size());
  for (const auto& item : json) {
    Row row;
    row.name = item.at("name").get<std::string>();
    row.content_type = item.at("content_type").get<std::string>();
    row.timestamp = SwiftTimestamp::from_last_modified(item.at("last_modified").get<std::string>());
    if (const auto bytes = item.find("bytes"); bytes != item.end() && bytes->is_number_unsigned()) {
      row.bytes = bytes->get<std::uint64_t>();
    }
    // The merge relies on each stream being strictly ascending.
    const std::string_view previous = rows.empty() ? marker : std::string_view(rows.back().name);
    if ((!rows.empty() || !marker.empty()) && !(previous < std::string_view(row.name))) {
      throw InputError(fmt::format("rows out of order at \"{}\"", printable(row.name)));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

} // namespace

std::string
node_label(const ring::Device& node)
{
  return fmt::format("{}:{}/{}", node.ip, node.port, node.device);
}

std::string
direct_url(const ring::Device& node,
           std::uint32_t partition,
           std::string_view account,
           std::string_view container,
           std::string_view name)
{
  std::string path = fmt::format("/{}/{}/{}/{}", node.device, partition, account, container);
  if (!name.empty()) {
    // A name may itself start with '/': "<container>//<name>" is what
    // Swift's direct_client sends too, and the server splits only the
    // first four segments off.
    path += '/';
    path += name;
  }
  const bool ipv6 = node.ip.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}{}",
                     ipv6 ? "[" : "",
                     node.ip,
                     ipv6 ? "]" : "",
                     node.port,
                     protect_dot_segments(swift::encode_path(path)));
}

NodeReply
send_direct(swift::HttpClient& http, const ring::Device& node, const swift::HttpRequest& request)
{
  NodeReply reply{node_label(node), 0, {}, std::nullopt};
  try {
    const auto response = http.send(request);
    reply.status = response.status;
    reply.policy_index = response.header("X-Backend-Storage-Policy-Index");
    if (!reply.ok()) {
      reply.error = describe(response);
    }
  } catch (const TransportError& e) {
    reply.error = e.what();
  }
  return reply;
}

std::string
describe_failures(const std::vector<NodeReply>& replies)
{
  std::string text;
  for (const auto& reply : replies) {
    if (reply.ok()) {
      continue;
    }
    if (!text.empty()) {
      text += "; ";
    }
    text += fmt::format("{}: {}", reply.node, reply.error);
  }
  return text;
}

DirectContainerClient::DirectContainerClient(swift::HttpClient& http,
                                             const ring::Ring& container_ring,
                                             const ring::HashSecret& secret,
                                             std::string account)
  : m_http(http),
    m_ring(container_ring),
    m_secret(secret),
    m_account(std::move(account))
{
}

std::uint32_t
DirectContainerClient::partition(std::string_view container) const
{
  return m_ring.partition(ring::hash_path(m_secret, m_account, container));
}

std::vector<const ring::Device*>
DirectContainerClient::nodes(std::string_view container) const
{
  return m_ring.primary_nodes(partition(container));
}

int
DirectContainerClient::quorum(std::string_view container) const
{
  return static_cast<int>(nodes(container).size() / 2 + 1);
}

std::string
DirectContainerClient::url(const ring::Device& node,
                           std::string_view container,
                           std::string_view name) const
{
  return direct_url(node, partition(container), m_account, container, name);
}

std::optional<std::string>
DirectContainerClient::suppressed(const std::string& label,
                                  std::chrono::steady_clock::time_point now)
{
  const auto it = m_no_answer.find(label);
  if (it == m_no_answer.end()) {
    return std::nullopt;
  }
  if (now - it->second.first < k_no_answer_suppression) {
    return fmt::format("not asked: no answer in time to an earlier request ({})",
                       it->second.second);
  }
  m_no_answer.erase(it);
  return std::nullopt;
}

NodeReply
DirectContainerClient::send_row(const ring::Device& node, const swift::HttpRequest& request)
{
  const auto now = std::chrono::steady_clock::now();
  const std::string label = node_label(node);
  if (auto why = suppressed(label, now)) {
    return NodeReply{label, 0, std::move(*why), std::nullopt};
  }
  NodeReply reply = send_direct(m_http, node, request);
  if (reply.status == 0 && std::chrono::steady_clock::now() - now >= k_slow_no_answer) {
    m_no_answer[label] = {now, reply.error};
  }
  return reply;
}

swift::HttpRequest
DirectContainerClient::row_put_request(const ring::Device& node,
                                       std::string_view container,
                                       std::string_view name,
                                       const SwiftTimestamp& timestamp,
                                       std::string_view content_type,
                                       std::uint64_t size,
                                       std::string_view etag)
{
  swift::HttpRequest request;
  request.method = swift::Method::put;
  request.url = url(node, container, name);
  request.timeout = k_request_timeout;
  request.headers = {
    {"X-Timestamp", timestamp.internal()},
    {"X-Size", std::to_string(size)},
    {"X-Etag", std::string(etag)},
    {"X-Content-Type", std::string(content_type)},
    {"X-Backend-Storage-Policy-Index", std::to_string(policy_index(container))},
    {"Content-Length", "0"},
  };
  return request;
}

NodeReply
DirectContainerClient::put_row_on(const ring::Device& node,
                                  std::string_view container,
                                  std::string_view name,
                                  const SwiftTimestamp& timestamp,
                                  std::string_view content_type,
                                  const std::optional<SwiftTimestamp>& content_type_timestamp)
{
  auto request = row_put_request(node, container, name, timestamp, content_type, 0, k_empty_etag);
  if (content_type_timestamp) {
    // The metadata time follows the content-type time when not given.
    request.headers.push_back({"X-Content-Type-Timestamp", content_type_timestamp->internal()});
  }
  return send_row(node, request);
}

NodeReply
DirectContainerClient::delete_row_on(const ring::Device& node,
                                     std::string_view container,
                                     std::string_view name,
                                     const SwiftTimestamp& timestamp)
{
  swift::HttpRequest request;
  request.method = swift::Method::del;
  request.url = url(node, container, name);
  request.timeout = k_request_timeout;
  request.headers = {
    {"X-Timestamp", timestamp.internal()},
    {"X-Backend-Storage-Policy-Index", std::to_string(policy_index(container))},
  };
  return send_row(node, request);
}

int
DirectContainerClient::policy_index(std::string_view container)
{
  if (const auto it = m_policy_index.find(container); it != m_policy_index.end()) {
    return it->second;
  }
  for (const auto* node : nodes(container)) {
    swift::HttpRequest request;
    request.method = swift::Method::head;
    request.url = url(*node, container, {});
    request.timeout = k_request_timeout;
    const NodeReply reply = send_row(*node, request);
    if (!reply.ok() || !reply.policy_index) {
      continue; // 404: not on this replica (yet); others: ask the next
    }
    const auto index = parse_int(trim(*reply.policy_index));
    if (!index || *index < 0 || *index > std::numeric_limits<int>::max()) {
      throw Error(fmt::format("{} says container \"{}/{}\" has storage policy index \"{}\"",
                              reply.node,
                              printable(m_account),
                              printable(container),
                              printable(*reply.policy_index)));
    }
    m_policy_index.emplace(std::string(container), static_cast<int>(*index));
    return static_cast<int>(*index);
  }
  return 0;
}

int
DirectContainerClient::put_row(std::string_view container,
                               std::string_view name,
                               const SwiftTimestamp& timestamp,
                               std::string_view content_type)
{
  int accepted = 0;
  for (const auto* node : nodes(container)) {
    accepted += put_row_on(*node, container, name, timestamp, content_type).ok() ? 1 : 0;
  }
  return accepted;
}

int
DirectContainerClient::write_quorum(std::string_view what,
                                    std::string_view container,
                                    std::string_view name,
                                    const std::vector<NodeReply>& replies) const
{
  int accepted = 0;
  for (const auto& reply : replies) {
    accepted += reply.ok() ? 1 : 0;
  }
  const int needed = static_cast<int>(replies.size() / 2 + 1);
  if (accepted < needed) {
    throw TransportError(
      fmt::format("cannot {} row \"{}\" in \"{}/{}\": {} of {} container servers accepted, "
                  "{} needed: {}",
                  what,
                  printable(name),
                  printable(m_account),
                  printable(container),
                  accepted,
                  replies.size(),
                  needed,
                  describe_failures(replies)),
      true);
  }
  return accepted;
}

int
DirectContainerClient::put_row_quorum(std::string_view container,
                                      std::string_view name,
                                      const SwiftTimestamp& timestamp,
                                      std::string_view content_type,
                                      const std::optional<SwiftTimestamp>& content_type_timestamp)
{
  std::vector<NodeReply> replies;
  for (const auto* node : nodes(container)) {
    replies.push_back(
      put_row_on(*node, container, name, timestamp, content_type, content_type_timestamp));
  }
  return write_quorum("write", container, name, replies);
}

int
DirectContainerClient::put_object_row_quorum(std::string_view container,
                                             std::string_view name,
                                             const SwiftTimestamp& timestamp,
                                             std::string_view content_type,
                                             std::uint64_t size,
                                             std::string_view etag)
{
  std::vector<NodeReply> replies;
  for (const auto* node : nodes(container)) {
    replies.push_back(
      send_row(*node,
               row_put_request(*node, container, name, timestamp, content_type, size, etag)));
  }
  return write_quorum("write", container, name, replies);
}

int
DirectContainerClient::delete_row(std::string_view container,
                                  std::string_view name,
                                  const SwiftTimestamp& timestamp)
{
  std::vector<NodeReply> replies;
  for (const auto* node : nodes(container)) {
    replies.push_back(delete_row_on(*node, container, name, timestamp));
  }
  return write_quorum("delete", container, name, replies);
}

namespace {

// The GET of one page of a replica's listing, after `marker`.
swift::HttpRequest
page_request(const Cursor& cursor,
             std::size_t limit,
             const std::string& marker,
             const std::string& prefix)
{
  swift::HttpRequest request;
  request.method = swift::Method::get;
  request.timeout = DirectContainerClient::k_request_timeout;
  request.url = cursor.url + fmt::format("?format=json&limit={}", limit);
  if (!marker.empty()) {
    request.url += "&marker=" + swift::encode_query_value(marker);
  }
  if (!prefix.empty()) {
    request.url += "&prefix=" + swift::encode_query_value(prefix);
  }
  request.headers = {{"Accept", "application/json"}};
  return request;
}

// Loads the page after `marker` into `cursor`; a failure takes the
// replica out.
void
fetch_page(swift::HttpClient& http,
           Cursor& cursor,
           std::size_t limit,
           const std::string& marker,
           const std::string& prefix)
{
  cursor.page.clear();
  cursor.pos = 0;
  const auto request = page_request(cursor, limit, marker, prefix);
  try {
    const auto response = http.send(request);
    if (response.status == 404 || response.status == 204) {
      cursor.last_page = true; // no container DB yet, or nothing in it
      return;
    }
    if (response.status != 200) {
      cursor.failed = true;
      cursor.failure = describe(response);
      return;
    }
    cursor.page = parse_listing(response.body, marker);
    cursor.last_page = cursor.page.size() < limit;
  } catch (const TransportError& e) {
    cursor.failed = true;
    cursor.failure = e.what();
  } catch (const nlohmann::json::exception& e) {
    cursor.failed = true;
    cursor.failure = fmt::format("bad listing: {}", e.what());
  } catch (const InputError& e) {
    cursor.failed = true;
    cursor.failure = fmt::format("bad listing: {}", e.what());
  }
  if (cursor.failed) {
    cursor.page.clear();
  }
}

// Throws hlm::TransportError, naming every replica's failure, when no
// replica is left.
void
check_alive(const std::vector<Cursor>& cursors,
            std::string_view account,
            std::string_view container)
{
  for (const auto& cursor : cursors) {
    if (!cursor.failed) {
      return;
    }
  }
  std::vector<NodeReply> failures;
  for (const auto& cursor : cursors) {
    failures.push_back(NodeReply{node_label(*cursor.node), 0, cursor.failure, std::nullopt});
  }
  throw TransportError(fmt::format("cannot list \"{}/{}\": no container server answered: {}",
                                   printable(account),
                                   printable(container),
                                   describe_failures(failures)),
                       true);
}

// The smallest name the replicas' current rows hold, in its newest version
// across the replicas that list it, each of which moves past it; nothing
// when every replica is done.
std::optional<Row>
take_smallest(std::vector<Cursor>& cursors)
{
  const std::string* smallest = nullptr;
  for (const auto& cursor : cursors) {
    if (cursor.has_row() && (!smallest || cursor.page[cursor.pos].name < *smallest)) {
      smallest = &cursor.page[cursor.pos].name;
    }
  }
  if (!smallest) {
    return std::nullopt;
  }
  std::optional<Row> merged;
  for (const auto& cursor : cursors) {
    if (cursor.has_row() && cursor.page[cursor.pos].name == *smallest) {
      const Row& row = cursor.page[cursor.pos];
      if (!merged || merged->timestamp < row.timestamp) {
        merged = row;
      }
    }
  }
  for (auto& cursor : cursors) {
    if (cursor.has_row() && cursor.page[cursor.pos].name == merged->name) {
      ++cursor.pos;
    }
  }
  return merged;
}

} // namespace

void
DirectContainerClient::list_rows(std::string_view container,
                                 const ListOptions& options,
                                 const std::function<bool(const Row&)>& on_row)
{
  // Swift answers 412 to a limit above its maximum.
  const std::size_t limit = std::clamp<std::size_t>(options.limit, 1, k_max_listing_limit);
  std::vector<Cursor> cursors;
  for (const auto* node : nodes(container)) {
    cursors.push_back(Cursor{node, url(*node, container, {}), {}, 0, false, false, {}});
  }

  // A page from a replica that recently gave no answer is not asked for;
  // one that fails after k_slow_no_answer leaves the replica out as a row
  // write's no-answer does.
  const auto fetch = [&](Cursor& cursor, const std::string& marker) {
    const auto now = std::chrono::steady_clock::now();
    const std::string label = node_label(*cursor.node);
    if (auto why = suppressed(label, now)) {
      cursor.failed = true;
      cursor.failure = std::move(*why);
      cursor.page.clear();
      return;
    }
    fetch_page(m_http, cursor, limit, marker, options.prefix);
    if (cursor.failed && std::chrono::steady_clock::now() - now >= k_slow_no_answer) {
      m_no_answer[label] = {now, cursor.failure};
    }
  };
  for (auto& cursor : cursors) {
    fetch(cursor, {});
  }
  while (true) {
    // Replicas whose page is used up read their next one now, so that no
    // more than one page per replica is held.
    for (auto& cursor : cursors) {
      if (!cursor.failed && cursor.pos == cursor.page.size() && !cursor.last_page) {
        const std::string marker = std::move(cursor.page.back().name);
        fetch(cursor, marker);
      }
    }
    check_alive(cursors, m_account, container);

    const auto merged = take_smallest(cursors);
    if (!merged || !on_row(*merged)) {
      return;
    }
  }
}

} // namespace hlm::queue
