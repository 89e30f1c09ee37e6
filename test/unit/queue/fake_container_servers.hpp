#pragma once

// An HttpClient that plays a set of Swift container servers, keyed by
// "ip:port": rows with last-write-wins timestamps (the data time and,
// with X-Content-Type-Timestamp, the content-type time merged apart, as
// swift/container/backend.py's update_new_item_from_existing does), JSON
// listings with limit/marker/prefix, and per-server misbehaviour.
// Intentionally simplistic: one container DB per server and path (a HEAD
// of it says its policy index, `policy`, 0 unless set; rows are stored
// whatever index they carry, and `row_policies` records it), no sharding, no separate metadata time
// (it follows the content-type time, as when X-Meta-Timestamp is not sent).

#include <hlm/core/swift_timestamp.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/util/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace hlm::test {

class FakeContainerServers : public swift::HttpClient
{
public:
  enum class Mode {
    normal,
    refuse,       // throws TransportError: no HTTP response
    no_answer,    // waits `delay`, then throws TransportError (a frozen server)
    fail,         // answers `fail_status` to everything
    no_db,        // answers 404 to listings (no container DB yet)
    fail_pages,   // answers listings with marker with `fail_status`
    fail_deletes, // answers row DELETEs with `fail_status`
  };

  struct StoredRow
  {
    SwiftTimestamp timestamp; // the data time: existence goes with it
    SwiftTimestamp content_type_timestamp;
    std::string content_type;
    bool deleted = false;

    // What a listing shows as last_modified: the newest of the times.
    const SwiftTimestamp&
    newest() const
    {
      return std::max(timestamp, content_type_timestamp);
    }

    // Swift's merge of a new version into the stored one: each part from
    // the newer of its times.
    void
    merge(const SwiftTimestamp& data,
          const SwiftTimestamp& content_type_time,
          std::string type,
          bool is_delete)
    {
      if (timestamp < data) {
        timestamp = data;
        deleted = is_delete;
      }
      if (content_type_timestamp < content_type_time) {
        content_type_timestamp = content_type_time;
        content_type = std::move(type);
      }
    }
  };

  struct Server
  {
    Mode mode = Mode::normal;
    int fail_status = 503;
    std::chrono::milliseconds delay{0}; // no_answer
    // container path ("/account/container") → name → row
    std::map<std::string, std::map<std::string, StoredRow>> dbs;
    std::map<std::string, int> policy; // container path → its policy index
  };

  // X-Backend-Storage-Policy-Index of every row PUT and DELETE, in order.
  std::vector<std::string> row_policies;

  struct Parsed
  {
    std::string host;
    std::string device;
    std::string partition;
    std::string container_path;
    std::optional<std::string> name;
    std::map<std::string, std::string> query;
  };

  std::map<std::string, Server> servers;
  std::vector<swift::HttpRequest> requests; // row writes and listings
  std::vector<std::string> container_heads; // URLs of HEADs of a container

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    const Parsed p = parse(request.url);
    if (request.method == swift::Method::head && !p.name) {
      container_heads.push_back(request.url);
    } else {
      requests.push_back(request);
    }
    Server& server = servers[p.host];
    switch (server.mode) {
    case Mode::refuse:
      throw TransportError("connection refused to " + p.host, true);
    case Mode::no_answer:
      std::this_thread::sleep_for(server.delay);
      throw TransportError("no answer from " + p.host, true);
    case Mode::fail:
      return {server.fail_status, {}, "Service Unavailable"};
    case Mode::no_db:
      if (request.method == swift::Method::get) {
        return {404, {}, ""};
      }
      break;
    case Mode::fail_pages:
      if (request.method == swift::Method::get && p.query.count("marker")) {
        return {server.fail_status, {}, ""};
      }
      break;
    case Mode::fail_deletes:
      if (request.method == swift::Method::del) {
        return {server.fail_status, {}, ""};
      }
      break;
    case Mode::normal:
      break;
    }
    if (request.method == swift::Method::head && !p.name) {
      if (!server.dbs.count(p.container_path)) {
        return {404, {}, ""};
      }
      const auto it = server.policy.find(p.container_path);
      return {204,
              {{"X-Backend-Storage-Policy-Index",
                std::to_string(it == server.policy.end() ? 0 : it->second)}},
              ""};
    }
    auto& db = server.dbs[p.container_path];
    const auto header = [&](std::string_view name) {
      return swift::find_header(request.headers, name);
    };
    if (request.method == swift::Method::put || request.method == swift::Method::del) {
      row_policies.push_back(header("X-Backend-Storage-Policy-Index").value_or("(none)"));
    }
    if (request.method == swift::Method::put) {
      const auto ts = header("X-Timestamp");
      if (!ts) {
        return {400, {}, "Missing X-Timestamp header"};
      }
      if (!header("X-Size") || !header("X-Etag") || !header("X-Content-Type")) {
        return {500, {}, ""};
      }
      const auto timestamp = SwiftTimestamp::parse(*ts);
      const auto ctype_ts = header("X-Content-Type-Timestamp");
      const auto content_type_time = ctype_ts ? SwiftTimestamp::parse(*ctype_ts) : timestamp;
      auto [it, created] = db.try_emplace(*p.name);
      if (created) {
        it->second = {timestamp, content_type_time, *header("X-Content-Type"), false};
      } else {
        it->second.merge(timestamp, content_type_time, *header("X-Content-Type"), false);
      }
      return {201, {}, ""};
    }
    if (request.method == swift::Method::del) {
      const auto ts = header("X-Timestamp");
      if (!ts) {
        return {400, {}, "Missing X-Timestamp header"};
      }
      const auto timestamp = SwiftTimestamp::parse(*ts);
      auto [it, created] = db.try_emplace(*p.name);
      if (created) {
        it->second = {timestamp, timestamp, "application/deleted", true};
      } else {
        it->second.merge(timestamp, timestamp, "application/deleted", true);
      }
      return {204, {}, ""};
    }
    // GET listing
    const std::size_t limit = p.query.count("limit") ? std::stoul(p.query.at("limit")) : 10000;
    const std::string marker = p.query.count("marker") ? p.query.at("marker") : "";
    const std::string prefix = p.query.count("prefix") ? p.query.at("prefix") : "";
    nlohmann::json listing = nlohmann::json::array();
    for (auto it = db.upper_bound(marker); it != db.end() && listing.size() < limit; ++it) {
      if (it->second.deleted || it->first.compare(0, prefix.size(), prefix) != 0) {
        continue;
      }
      listing.push_back({{"name", it->first},
                         {"hash", "d41d8cd98f00b204e9800998ecf8427e"},
                         {"bytes", 0},
                         {"content_type", it->second.content_type},
                         {"last_modified", it->second.newest().last_modified()}});
    }
    return {200, {{"Content-Type", "application/json; charset=utf-8"}}, listing.dump()};
  }

  // The rows one server lists (not deleted) in one container.
  std::vector<std::string>
  names(const std::string& host, const std::string& container_path)
  {
    std::vector<std::string> out;
    for (const auto& [name, row] : servers[host].dbs[container_path]) {
      if (!row.deleted) {
        out.push_back(name);
      }
    }
    return out;
  }

  static std::string
  decode(std::string_view text)
  {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '%' && i + 2 < text.size()) {
        out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  }

  static Parsed
  parse(const std::string& url)
  {
    Parsed p;
    std::string_view rest = url;
    rest.remove_prefix(std::string_view("http://").size());
    const auto slash = rest.find('/');
    p.host = rest.substr(0, slash);
    rest.remove_prefix(slash);
    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    // Like the server: decode, then split off four segments.
    const std::string path = decode(rest);
    std::vector<std::string> segments;
    std::size_t start = 1;
    for (int i = 0; i < 4; ++i) {
      const auto end = path.find('/', start);
      segments.push_back(path.substr(start, end - start));
      start = end == std::string::npos ? path.size() : end + 1;
      if (end == std::string::npos) {
        break;
      }
    }
    p.device = segments.at(0);
    p.partition = segments.at(1);
    p.container_path = "/" + segments.at(2) + "/" + segments.at(3);
    if (start < path.size() || (start == path.size() && path.back() == '/')) {
      p.name = path.substr(start);
    }
    while (!query.empty()) {
      const auto amp = query.find('&');
      const auto pair = query.substr(0, amp);
      const auto eq = pair.find('=');
      p.query[std::string(pair.substr(0, eq))] = eq == std::string_view::npos
                                                   ? ""
                                                   : decode(pair.substr(eq + 1));
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
    return p;
  }
};

} // namespace hlm::test
