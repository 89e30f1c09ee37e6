#include <hlm/handler/command.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <istream>

namespace hlm::handler {

namespace {

Request
read_request(const HandlerCommand& command, std::istream& in)
{
  in >> std::ws;
  if (in.peek() == '{') {
    Request request = read_request_document(in);
    if (command.operation && *command.operation != request.operation) {
      throw InputError(fmt::format(
        "the command line says {} but the request document says {}",
        to_string(*command.operation),
        to_string(request.operation)));
    }
    return request;
  }
  if (!command.operation) {
    throw InputError(
      "standard input is not a JSON request document; give an operation "
      "(status, migrate or recall) to read one object path per line");
  }
  return read_object_lines(in, *command.operation);
}

// The config files named, directories expanded to their *.conf files in
// name order.
std::vector<ObjectServerConf>
load_confs(const std::vector<std::filesystem::path>& paths)
{
  std::vector<ObjectServerConf> confs;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
      confs.push_back(load_object_server_conf(path));
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      if (entry.path().extension() == ".conf") {
        files.push_back(entry.path());
      }
    }
    if (files.empty()) {
      throw ConfigError(fmt::format("no *.conf file in {}", path.string()));
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      confs.push_back(load_object_server_conf(file));
    }
  }
  if (confs.empty()) {
    throw ConfigError("no object server configuration given");
  }
  return confs;
}

} // namespace

Summary
run_handler(const HandlerCommand& command,
            const ConnectorMaker& make_connector,
            std::istream& in,
            std::ostream& out)
{
  const std::vector<ObjectServerConf> confs = load_confs(command.object_server_confs);
  const Request request = read_request(command, in);

  HandlerOptions options;
  options.batch_size = command.batch_size;
  options.heartbeat = command.heartbeat;
  options.swift_dir = command.swift_dir    ? *command.swift_dir
                      : request.swift_dir ? std::filesystem::path(*request.swift_dir)
                                          : confs.front().swift_dir;
  const auto swift_conf = ring::load_swift_conf(options.swift_dir);
  options.storage_policy_index = swift_conf.default_policy().index;
  if (command.policy) {
    options.storage_policy_index = swift_conf.find_policy(*command.policy).index;
  }
  if (request.storage_policy_index) {
    if (command.policy && *request.storage_policy_index != options.storage_policy_index) {
      throw InputError(fmt::format(
        "--policy {} names policy {} but the request document says {}",
        *command.policy,
        options.storage_policy_index,
        *request.storage_policy_index));
    }
    options.storage_policy_index = *request.storage_policy_index;
  }
  if (!swift_conf.policy_by_index(options.storage_policy_index)) {
    throw InputError(fmt::format("unknown storage policy index {} (not in {})",
                                 options.storage_policy_index,
                                 swift_conf.path.string()));
  }

  std::vector<std::unique_ptr<connector::Connector>> backends;
  std::vector<LocalServer> servers;
  for (const auto& conf : confs) {
    // A configuration mistake stops everything; a backend that cannot be
    // opened fails only the replicas on its own server's devices.
    try {
      backends.push_back(make_connector(conf.connector, conf.connector_settings));
      servers.push_back({&conf, backends.back().get(), {}});
    } catch (const ConfigError&) {
      throw;
    } catch (const Error& e) {
      servers.push_back({&conf, nullptr, e.what()});
    }
  }
  return run_request(request, servers, options, out);
}

} // namespace hlm::handler
