#include <hlm/handler/command.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <istream>
#include <thread>

namespace hlm::handler {

namespace {

using protocol::Request;

// Reads the requests of standard input: the JSON documents one after
// another (a session), or, after a command-line operation, object lines as
// one request.
class Requests
{
public:
  Requests(const HandlerCommand& command, std::istream& in)
    : m_command(command),
      m_in(in),
      m_reader(in)
  {
    m_in >> std::ws;
    m_json = m_in.peek() == '{';
    if (!m_json && !m_command.operation) {
      throw InputError("standard input is not a JSON request document; give an operation "
                       "(status, migrate or recall) to read one object path per line");
    }
  }

  // The next request. Object lines come as a request without objects, and
  // paths() holds them.
  std::optional<Request>
  next()
  {
    if (!m_json) {
      if (m_done) {
        return std::nullopt;
      }
      m_done = true;
      m_paths.emplace(m_in);
      Request request;
      request.operation = *m_command.operation;
      return request;
    }
    auto request = m_reader.next();
    if (request) {
      // Kept to the end of the request: the room the vector grew into by
      // doubling (up to as much again, 40 bytes an object) is given back
      // before the batches begin.
      request->objects.shrink_to_fit();
    }
    if (request && m_command.operation && *m_command.operation != request->operation) {
      throw InputError(fmt::format("the command line says {} but the request document says {}",
                                   to_string(*m_command.operation),
                                   to_string(request->operation)));
    }
    return request;
  }

  // The object lines read, or null for JSON documents.
  protocol::ObjectPathSpool*
  paths()
  {
    return m_paths ? &*m_paths : nullptr;
  }

private:
  const HandlerCommand& m_command;
  std::istream& m_in;
  protocol::RequestReader m_reader;
  std::optional<protocol::ObjectPathSpool> m_paths;
  bool m_json = false;
  bool m_done = false;
};

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

// The handler's options for `request`, with the swift.conf they name.
// Where settings meet: --swift-dir beats the request's "swift_dir", which
// beats the first object server's swift_dir; --policy and the request's
// "storage_policy_index" must agree when both are given.
HandlerOptions
options_for(const HandlerCommand& command,
            const Request& request,
            const ObjectServerConf& first_conf,
            ring::SwiftConf& swift_conf)
{
  HandlerOptions options;
  options.batch_size = command.batch_size;
  options.device_threads = command.device_threads != 0
                             ? command.device_threads
                             : std::max<std::size_t>(std::thread::hardware_concurrency(), 1);
  options.heartbeat = command.heartbeat;
  options.swift_dir = command.swift_dir   ? *command.swift_dir
                      : request.swift_dir ? std::filesystem::path(*request.swift_dir)
                                          : first_conf.swift_dir;
  if (swift_conf.path != options.swift_dir / "swift.conf") {
    swift_conf = ring::load_swift_conf(options.swift_dir);
  }
  options.storage_policy_index = swift_conf.default_policy().index;
  if (command.policy) {
    options.storage_policy_index = swift_conf.find_policy(*command.policy).index;
  }
  if (request.storage_policy_index) {
    if (command.policy && *request.storage_policy_index != options.storage_policy_index) {
      throw InputError(fmt::format("--policy {} names policy {} but the request document says {}",
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
  return options;
}

// Every object server of this host with its connector. A configuration
// mistake stops everything; a backend that cannot be opened fails only the
// replicas on its own server's devices.
std::vector<LocalServer>
open_servers(const std::vector<ObjectServerConf>& confs,
             const ConnectorMaker& make_connector,
             std::vector<std::unique_ptr<connector::Connector>>& backends)
{
  std::vector<LocalServer> servers;
  for (const auto& conf : confs) {
    try {
      backends.push_back(make_connector(conf.connector, conf.connector_settings));
      servers.push_back({&conf, backends.back().get(), {}});
    } catch (const ConfigError&) {
      throw;
    } catch (const Error& e) {
      servers.push_back({&conf, nullptr, e.what()});
    }
  }
  return servers;
}

} // namespace

Summary
run_handler(const HandlerCommand& command,
            const ConnectorMaker& make_connector,
            std::istream& in,
            std::ostream& out)
{
  const std::vector<ObjectServerConf> confs = load_confs(command.object_server_confs);
  Requests requests(command, in);
  std::vector<std::unique_ptr<connector::Connector>> backends;
  std::vector<LocalServer> servers;
  ring::SwiftConf swift_conf;
  HandlerSession session; // the ring read once for all the requests
  Summary total;
  // Each request is read and checked whole before anything is done for it;
  // the backends are opened once, after the first.
  while (auto request = requests.next()) {
    const HandlerOptions options = options_for(command, *request, confs.front(), swift_conf);
    if (servers.empty()) {
      servers = open_servers(confs, make_connector, backends);
    }
    auto* paths = requests.paths();
    const Summary summary =
      paths ? run_request(*request, *paths, swift_conf, servers, options, out, session)
            : run_request(*request, swift_conf, servers, options, out, session);
    total.objects += summary.objects;
    total.ok += summary.ok;
    total.failed += summary.failed;
  }
  return total;
}

} // namespace hlm::handler
