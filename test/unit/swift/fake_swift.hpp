#pragma once

// An in-memory Swift proxy with tempauth, on FakeServer: just enough of the
// API for the client's tests. Intentionally simplistic: no metadata beyond
// X-Storage-Policy and Content-Type, no account stats.

#include "fake_server.hpp"

#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace hlm::test {

class FakeSwift
{
public:
  struct Object
  {
    std::string body;
    std::string content_type;
    std::string etag;
  };
  struct Container
  {
    std::string policy = "gold";
    std::map<std::string, Object> objects; // byte order, as Swift sorts
  };

  FakeSwift()
    : m_server([this](const FakeRequest& request) { return handle(request); })
  {
    m_accounts["AUTH_test"];
    m_accounts["AUTH_test2"];
  }

  std::string
  auth_url() const
  {
    return m_server.url() + "/auth/v1.0";
  }
  std::string
  url() const
  {
    return m_server.url();
  }
  FakeServer&
  server()
  {
    return m_server;
  }

  // Tokens issued so far are rejected from now on (401).
  void
  expire_tokens()
  {
    std::lock_guard lock(m_mutex);
    m_tokens.clear();
  }
  // Valid tokens are refused anyway (401), authentication still works.
  void
  refuse_all_tokens(bool refuse)
  {
    std::lock_guard lock(m_mutex);
    m_refuse = refuse;
  }
  // The next requests to the storage API (not auth) get these statuses.
  void
  inject(std::deque<int> statuses)
  {
    std::lock_guard lock(m_mutex);
    m_injected = std::move(statuses);
  }
  int
  auth_requests() const
  {
    std::lock_guard lock(m_mutex);
    return m_auth_requests;
  }
  void
  add_object(const std::string& account,
             const std::string& container,
             const std::string& name,
             const std::string& body)
  {
    std::lock_guard lock(m_mutex);
    m_accounts[account][container].objects[name] = Object{body,
                                                          "application/octet-stream",
                                                          etag(body)};
  }

private:
  static std::string
  etag(const std::string& body)
  {
    const auto digest = md5(body);
    return to_hex(digest);
  }

  static FakeResponse
  status(int code)
  {
    FakeResponse response;
    response.status = code;
    return response;
  }

  FakeResponse
  handle(const FakeRequest& request)
  {
    std::lock_guard lock(m_mutex);
    if (request.path == "/auth/v1.0") {
      ++m_auth_requests;
      const auto user = request.header("X-Auth-User").value_or("");
      const auto key = request.header("X-Auth-Key").value_or("");
      std::string account;
      if (user == "test:tester" && key == "testing") {
        account = "AUTH_test";
      } else if (user == "test2:tester2" && key == "testing2") {
        account = "AUTH_test2";
      } else {
        return status(401);
      }
      const std::string token = "AUTH_tk" + std::to_string(++m_token_serial) + "secret";
      m_tokens[token] = account;
      FakeResponse response;
      response.headers = {{"X-Storage-Url", m_server.url() + "/v1/" + account},
                          {"X-Auth-Token", token}};
      return response;
    }
    if (!request.path.starts_with("/v1/")) {
      return status(404);
    }
    const auto token = m_tokens.find(request.header("X-Auth-Token").value_or(""));
    if (token == m_tokens.end() || m_refuse) {
      return status(401);
    }
    if (!m_injected.empty()) {
      const int code = m_injected.front();
      m_injected.pop_front();
      return status(code);
    }
    // /v1/<account>[/<container>[/<object...>]]
    const std::string rest = request.path.substr(4);
    const auto slash = rest.find('/');
    const std::string account = rest.substr(0, slash);
    if (account != token->second) {
      return status(403);
    }
    auto& containers = m_accounts[account];
    if (slash == std::string::npos) {
      return account_request(request, containers);
    }
    const auto slash2 = rest.find('/', slash + 1);
    const std::string container = rest.substr(slash + 1,
                                              slash2 == std::string::npos ? std::string::npos
                                                                          : slash2 - slash - 1);
    if (slash2 == std::string::npos) {
      return container_request(request, containers, container);
    }
    const auto found = containers.find(container);
    if (found == containers.end()) {
      return status(404);
    }
    return object_request(request, found->second, rest.substr(slash2 + 1));
  }

  // Swift's listing paging: names after marker, before end_marker, with
  // prefix, at most limit.
  template<typename Map, typename Row>
  static FakeResponse
  listing(const FakeRequest& request, const Map& map, Row row)
  {
    const std::size_t limit = request.query.count("limit") ? std::stoul(request.param("limit"))
                                                           : 10000;
    const std::string marker = request.param("marker");
    const std::string end_marker = request.param("end_marker");
    const std::string prefix = request.param("prefix");
    nlohmann::json rows = nlohmann::json::array();
    for (auto it = map.upper_bound(marker); it != map.end() && rows.size() < limit; ++it) {
      if (!end_marker.empty() && it->first >= end_marker) {
        break;
      }
      if (it->first.starts_with(prefix)) {
        rows.push_back(row(it->first, it->second));
      }
    }
    FakeResponse response;
    response.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    response.body = rows.dump();
    return response;
  }

  FakeResponse
  account_request(const FakeRequest& request, std::map<std::string, Container>& containers)
  {
    if (request.method == "HEAD") {
      FakeResponse response = status(204);
      response.headers = {{"X-Account-Container-Count", std::to_string(containers.size())},
                          {"X-Account-Object-Count", "0"},
                          {"X-Account-Bytes-Used", "0"}};
      return response;
    }
    if (request.method == "GET") {
      return listing(request, containers, [](const std::string& name, const Container& c) {
        return nlohmann::json{{"name", name}, {"count", c.objects.size()}, {"bytes", 0}};
      });
    }
    return status(405);
  }

  FakeResponse
  container_request(const FakeRequest& request,
                    std::map<std::string, Container>& containers,
                    const std::string& name)
  {
    const auto found = containers.find(name);
    if (request.method == "PUT") {
      const auto policy = request.header("X-Storage-Policy");
      if (found != containers.end()) {
        return status(policy && *policy != found->second.policy ? 409 : 202);
      }
      containers[name].policy = policy.value_or("gold");
      return status(201);
    }
    if (found == containers.end()) {
      return status(404);
    }
    Container& container = found->second;
    if (request.method == "HEAD") {
      std::size_t bytes = 0;
      for (const auto& [key, object] : container.objects) {
        bytes += object.body.size();
      }
      FakeResponse response = status(204);
      response.headers = {{"X-Container-Object-Count", std::to_string(container.objects.size())},
                          {"X-Container-Bytes-Used", std::to_string(bytes)},
                          {"X-Storage-Policy", container.policy}};
      return response;
    }
    if (request.method == "GET") {
      return listing(request, container.objects, [](const std::string& key, const Object& object) {
        return nlohmann::json{{"name", key},
                              {"bytes", object.body.size()},
                              {"hash", object.etag},
                              {"content_type", object.content_type},
                              {"last_modified", "2024-05-01T12:00:00.000000"}};
      });
    }
    if (request.method == "DELETE") {
      if (!container.objects.empty()) {
        return status(409);
      }
      containers.erase(found);
      return status(204);
    }
    return status(405);
  }

  FakeResponse
  object_request(const FakeRequest& request, Container& container, const std::string& name)
  {
    if (request.method == "PUT") {
      Object& object = container.objects[name];
      object.body = request.body;
      object.content_type = request.header("Content-Type").value_or("application/octet-stream");
      object.etag = etag(request.body);
      FakeResponse response = status(201);
      response.headers = {{"Etag", object.etag}};
      return response;
    }
    const auto found = container.objects.find(name);
    if (found == container.objects.end()) {
      return status(404);
    }
    if (request.method == "DELETE") {
      container.objects.erase(found);
      return status(204);
    }
    FakeResponse response;
    response.headers = {{"Etag", "\"" + found->second.etag + "\""},
                        {"Content-Type", found->second.content_type},
                        {"Content-Length", std::to_string(found->second.body.size())}};
    if (request.method == "GET") {
      response.body = found->second.body;
    }
    return response;
  }

  mutable std::mutex m_mutex;
  std::map<std::string, std::map<std::string, Container>> m_accounts;
  std::map<std::string, std::string> m_tokens; // token -> account
  std::deque<int> m_injected;
  bool m_refuse = false;
  int m_token_serial = 0;
  int m_auth_requests = 0;
  FakeServer m_server; // last: stops before the state above goes away
};

} // namespace hlm::test
