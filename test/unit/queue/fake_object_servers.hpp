#pragma once

// An HttpClient that plays Swift object servers, keyed by "ip:port", for
// DELETEs (and PUTs and GETs of whole bodies) as swift/obj/server.py answers them: 204 when a
// version older than X-Timestamp was there, 409 when one at least as new is, 404 when there is none
// or it is deleted; a tombstone is written (and counted) whenever the DELETE is newer than what was
// there, a missing object included. Intentionally simplistic: an object is a timestamp and a
// deleted flag under "<device>/<partition>/<account>/<container>/<object>"
// (so a DELETE to the wrong device or partition finds nothing), no data,
// no metadata, no container updates (a DELETE carrying X-Container-* is
// recorded in `container_updates`).
// SplitHttp sends requests to object server ports to one client, the rest
// to another (the queue talks to both through one HttpClient).

#include "fake_container_servers.hpp"

#include <hlm/core/swift_timestamp.hpp>
#include <hlm/swift/http.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::test {

class FakeObjectServers : public swift::HttpClient
{
public:
  enum class Mode {
    normal,
    refuse, // throws TransportError: no HTTP response
    fail,   // answers `fail_status` to everything
  };

  struct StoredObject
  {
    SwiftTimestamp timestamp; // of the newest .data or .ts
    bool deleted = false;
    std::string body; // what a PUT stored
    std::string etag; // its MD5, as the server answers it
  };

  struct Server
  {
    Mode mode = Mode::normal;
    int fail_status = 503;
    std::map<std::string, StoredObject> objects; // key(), see above
  };

  std::map<std::string, Server> servers;
  std::vector<swift::HttpRequest> requests;
  std::size_t tombstones = 0;
  std::size_t container_updates = 0;

  static std::string
  key(std::string_view device, std::uint32_t partition, std::string_view path)
  {
    return std::string(device) + "/" + std::to_string(partition) + std::string(path);
  }

  // Stores an object as a PUT as of `timestamp` would. `path`:
  // "/account/container/object".
  void
  put(const std::string& host,
      std::string_view device,
      std::uint32_t partition,
      std::string_view path,
      const SwiftTimestamp& timestamp)
  {
    servers[host].objects[key(device, partition, path)] = {timestamp, false, {}, {}};
  }

  // The object at `path` on `host`'s `device`, if the server has anything.
  const StoredObject*
  find(const std::string& host,
       std::string_view device,
       std::uint32_t partition,
       std::string_view path)
  {
    const auto& objects = servers[host].objects;
    const auto it = objects.find(key(device, partition, path));
    return it == objects.end() ? nullptr : &it->second;
  }

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    requests.push_back(request);
    // The object server's split: device, partition, then the rest.
    const auto p = FakeContainerServers::parse(request.url);
    Server& server = servers[p.host];
    switch (server.mode) {
    case Mode::refuse:
      throw TransportError("connection refused to " + p.host, true);
    case Mode::fail:
      return {server.fail_status, {}, "Service Unavailable"};
    case Mode::normal:
      break;
    }
    if (!p.name || request.method == swift::Method::head || request.method == swift::Method::post) {
      return {405, {}, ""};
    }
    const std::string path = p.container_path + "/" + *p.name;
    const std::string stored_key = key(p.device,
                                       static_cast<std::uint32_t>(std::stoul(p.partition)),
                                       path);
    if (request.method == swift::Method::get) {
      const auto it = server.objects.find(stored_key);
      if (it == server.objects.end() || it->second.deleted) {
        return {404, {}, ""};
      }
      // Quoted, as Swift's object server sends it (webob quotes an ETag).
      return {200, {{"ETag", "\"" + it->second.etag + "\""}}, it->second.body};
    }
    const auto ts = swift::find_header(request.headers, "X-Timestamp");
    if (!ts) {
      return {400, {}, "Missing X-Timestamp header"};
    }
    if (request.method == swift::Method::put) {
      return store(server, stored_key, request, SwiftTimestamp::parse(*ts));
    }
    if (swift::find_header(request.headers, "X-Container-Partition")
        || swift::find_header(request.headers, "X-Container-Host")) {
      ++container_updates;
    }
    const auto timestamp = SwiftTimestamp::parse(*ts);
    auto [it, created] = server.objects.try_emplace(stored_key);
    StoredObject& object = it->second;
    if (created) {
      object = {SwiftTimestamp(), true, {}, {}};
    }
    const bool was_there = !object.deleted;
    if (!(object.timestamp < timestamp)) {
      return {was_there ? 409 : 404, {}, ""};
    }
    object = {timestamp, true, {}, {}};
    ++tombstones;
    return {was_there ? 204 : 404, {}, ""};
  }

private:
  // A PUT as swift/obj/server.py takes it: 422 when the body does not
  // match its ETag, 409 when a version at least as new is there.
  static swift::HttpResponse
  store(Server& server,
        const std::string& stored_key,
        const swift::HttpRequest& request,
        const SwiftTimestamp& timestamp)
  {
    const auto etag = swift::find_header(request.headers, "ETag");
    const std::string body_md5 = to_hex(md5(request.body));
    if (etag && *etag != body_md5) {
      return {422, {}, "Unprocessable Entity"};
    }
    StoredObject& object = server.objects[stored_key];
    if (!(object.timestamp < timestamp)) {
      return {409, {}, ""};
    }
    object = {timestamp, false, request.body, body_md5};
    return {201, {}, ""};
  }
};

class SplitHttp : public swift::HttpClient
{
public:
  // Requests to ports from `first_object_port` on go to `objects`.
  SplitHttp(swift::HttpClient& containers, swift::HttpClient& objects, int first_object_port)
    : m_containers(containers),
      m_objects(objects),
      m_first_object_port(first_object_port)
  {
  }

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    const std::string host = FakeContainerServers::parse(request.url).host;
    const int port = std::stoi(host.substr(host.rfind(':') + 1));
    return (port >= m_first_object_port ? m_objects : m_containers).send(request);
  }

private:
  swift::HttpClient& m_containers;
  swift::HttpClient& m_objects;
  int m_first_object_port;
};

} // namespace hlm::test
