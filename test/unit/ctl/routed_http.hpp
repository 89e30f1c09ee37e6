#pragma once

// An HttpClient fake for swift::Client in tests without sockets: answers
// "METHOD /path" (the URL without scheme, host and query) from a table,
// 404 for anything else, and records what was sent. Build the client with
// a token and a storage URL ("http://proxy/v1/AUTH_test") so that nothing
// authenticates.

#include <hlm/swift/client.hpp>
#include <hlm/swift/http.hpp>

#include <map>
#include <string>
#include <vector>

namespace hlm::test {

class RoutedHttp : public swift::HttpClient
{
public:
  std::map<std::string, swift::HttpResponse> routes;
  std::vector<swift::HttpRequest> sent;

  void
  answer(const std::string& route, int status, swift::Headers headers = {}, std::string body = {})
  {
    swift::HttpResponse response;
    response.status = status;
    response.headers = std::move(headers);
    response.body = std::move(body);
    routes[route] = std::move(response);
  }

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    sent.push_back(request);
    const auto host = request.url.find('/', request.url.find("//") + 2);
    auto path = request.url.substr(host, request.url.find('?') - host);
    const auto it = routes.find(std::string(swift::to_string(request.method)) + " " + path);
    if (it == routes.end()) {
      swift::HttpResponse missing;
      missing.status = 404;
      return missing;
    }
    return it->second;
  }

  // What was sent, as "METHOD /path".
  std::vector<std::string>
  sent_routes() const
  {
    std::vector<std::string> out;
    for (const auto& request : sent) {
      const auto host = request.url.find('/', request.url.find("//") + 2);
      out.push_back(std::string(swift::to_string(request.method)) + " "
                    + request.url.substr(host, request.url.find('?') - host));
    }
    return out;
  }
};

// A client of `http` that is already authenticated as AUTH_test.
inline swift::Client
preauthenticated_client(swift::HttpClient& http)
{
  swift::AuthOptions auth;
  auth.token = "AUTH_tk_secret";
  auth.storage_url = "http://proxy:8080/v1/AUTH_test";
  swift::ClientOptions options;
  options.retry.sleep = [](std::chrono::milliseconds) {};
  return swift::Client(http, auth, options);
}

} // namespace hlm::test
