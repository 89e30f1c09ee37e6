// swift_client_tool: drives hlm::swift::Client from the integration test
// (test/integration/test_swift_client.py) against the real test cluster.
// Credentials come from python-swiftclient's environment variables. One
// operation per run; results go to stdout as JSON, failures to stderr with
// exit status 1 and a JSON {"error", "kind", "status"} on stdout.
//
//   swift_client_tool auth
//   swift_client_tool head-account ACCOUNT
//   swift_client_tool head-container ACCOUNT CONTAINER
//   swift_client_tool put-container ACCOUNT CONTAINER [NAME:VALUE...]
//   swift_client_tool delete-container ACCOUNT CONTAINER
//   swift_client_tool put-object ACCOUNT CONTAINER OBJECT   (body on stdin)
//   swift_client_tool head-object ACCOUNT CONTAINER OBJECT
//   swift_client_tool get-object ACCOUNT CONTAINER OBJECT   (body as "body")
//   swift_client_tool delete-object ACCOUNT CONTAINER OBJECT
//   swift_client_tool list ACCOUNT CONTAINER [LIMIT [PREFIX [MARKER [END_MARKER]]]]
//   swift_client_tool list-containers ACCOUNT [LIMIT]

#include <hlm/swift/client.hpp>
#include <hlm/util/error.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

using hlm::swift::Client;
using nlohmann::json;

namespace {

// Counts requests, so that the test can check how many pages a listing took
// and that auth happened once.
class CountingHttp : public hlm::swift::HttpClient
{
public:
  explicit CountingHttp(std::unique_ptr<hlm::swift::HttpClient> inner)
    : m_inner(std::move(inner))
  {
  }

  hlm::swift::HttpResponse
  send(const hlm::swift::HttpRequest& request) override
  {
    ++count;
    if (request.url.find('?') != std::string::npos) {
      queries.push_back(request.url.substr(request.url.find('?') + 1));
    }
    return m_inner->send(request);
  }

  int count = 0;
  std::vector<std::string> queries;

private:
  std::unique_ptr<hlm::swift::HttpClient> m_inner;
};

json
headers_json(const hlm::swift::Headers& headers)
{
  json out = json::object();
  for (const auto& [name, value] : headers) {
    out[name] = value;
  }
  return out;
}

int
usage()
{
  std::cerr << "usage: swift_client_tool OPERATION ARGS... (see main.cpp)\n";
  return 2;
}

json
run(Client& client, CountingHttp& http, const std::vector<std::string>& args)
{
  const std::string& op = args.at(0);
  const auto arg = [&](std::size_t i) -> const std::string& { return args.at(i); };
  if (op == "auth") {
    return {{"storage_url", client.storage_url()}, {"account", client.account()}};
  }
  if (op == "head-account") {
    const auto info = client.head_account(arg(1));
    if (!info) {
      return nullptr;
    }
    return {{"container_count", info->container_count}, {"headers", headers_json(info->headers)}};
  }
  if (op == "head-container") {
    const auto info = client.head_container(arg(1), arg(2));
    if (!info) {
      return nullptr;
    }
    return {{"object_count", info->object_count},
            {"bytes_used", info->bytes_used},
            {"storage_policy", info->storage_policy}};
  }
  if (op == "put-container") {
    hlm::swift::Headers headers;
    for (std::size_t i = 3; i < args.size(); ++i) {
      const auto colon = args[i].find(':');
      headers.emplace_back(args[i].substr(0, colon), args[i].substr(colon + 1));
    }
    client.put_container(arg(1), arg(2), headers);
    return {{"ok", true}};
  }
  if (op == "delete-container") {
    return {{"deleted", client.delete_container(arg(1), arg(2))}};
  }
  if (op == "put-object") {
    const std::string body{std::istreambuf_iterator<char>(std::cin),
                           std::istreambuf_iterator<char>()};
    return {{"etag", client.put_object(arg(1), arg(2), arg(3), body)}};
  }
  if (op == "head-object") {
    const auto info = client.head_object(arg(1), arg(2), arg(3));
    if (!info) {
      return nullptr;
    }
    return {{"etag", info->etag},
            {"content_length", info->content_length},
            {"content_type", info->content_type}};
  }
  if (op == "get-object") {
    const auto body = client.get_object(arg(1), arg(2), arg(3));
    if (!body) {
      return nullptr;
    }
    return {{"body", *body}};
  }
  if (op == "delete-object") {
    return {{"deleted", client.delete_object(arg(1), arg(2), arg(3))}};
  }
  if (op == "list" || op == "list-containers") {
    const bool objects = op == "list";
    const std::size_t first = objects ? 3 : 2;
    hlm::swift::ListOptions options;
    if (args.size() > first) {
      options.limit = std::stoi(arg(first));
    }
    if (args.size() > first + 1) {
      options.prefix = arg(first + 1);
    }
    if (args.size() > first + 2) {
      options.marker = arg(first + 2);
    }
    if (args.size() > first + 3) {
      options.end_marker = arg(first + 3);
    }
    client.account(); // authenticate first, so that only listing requests are counted
    const int before = http.count;
    json entries = json::array();
    if (objects) {
      client.list_objects(arg(1), arg(2), options, [&](const hlm::swift::ObjectEntry& e) {
        entries.push_back({{"name", e.name},
                           {"bytes", e.bytes},
                           {"hash", e.hash},
                           {"content_type", e.content_type},
                           {"last_modified", e.last_modified}});
        return true;
      });
    } else {
      client.list_containers(arg(1), options, [&](const hlm::swift::ContainerEntry& e) {
        entries.push_back({{"name", e.name}, {"count", e.object_count}, {"bytes", e.bytes}});
        return true;
      });
    }
    return {{"entries", entries}, {"requests", http.count - before}, {"queries", http.queries}};
  }
  throw std::invalid_argument("unknown operation");
}

} // namespace

int
main(int argc, char** argv)
{
  if (argc < 2) {
    return usage();
  }
  const std::vector<std::string> args(argv + 1, argv + argc);
  hlm::swift::global_init();
  auto counting = std::make_unique<CountingHttp>(hlm::swift::make_curl_client());
  CountingHttp& http = *counting;
  json result;
  try {
    Client client(std::move(counting), hlm::swift::auth_options_from_env());
    result = run(client, http, args);
  } catch (const std::out_of_range&) {
    return usage();
  } catch (const std::invalid_argument&) {
    return usage();
  } catch (const hlm::Error& e) {
    std::string kind = "error";
    int status = 0;
    if (const auto* swift = dynamic_cast<const hlm::SwiftError*>(&e)) {
      kind = "swift";
      status = swift->http_status();
    } else if (const auto* transport = dynamic_cast<const hlm::TransportError*>(&e)) {
      kind = transport->transient() ? "transport-transient" : "transport";
    } else if (dynamic_cast<const hlm::ConfigError*>(&e)) {
      kind = "config";
    } else if (dynamic_cast<const hlm::InputError*>(&e)) {
      kind = "input";
    }
    std::cerr << "swift_client_tool: error: " << e.what() << "\n";
    std::cout << json{{"error", e.what()}, {"kind", kind}, {"status", status}}.dump() << "\n";
    return 1;
  }
  std::cout << result.dump() << "\n";
  return 0;
}
