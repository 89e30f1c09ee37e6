#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/handler/handler.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hlm::handler {

// What hlm-handler's command line says.
struct HandlerCommand
{
  // Given: stdin may hold object lines; absent: stdin must be the seed's
  // JSON request document.
  std::optional<Operation> operation;
  // Object server configs of this host; a directory stands for its *.conf
  // files (Swift's /etc/swift/object-server/ layout).
  std::vector<std::filesystem::path> object_server_confs = {"/etc/swift/object-server.conf"};
  std::optional<std::filesystem::path> swift_dir;
  std::optional<std::string> policy; // name or index
  std::size_t batch_size = 10'000;
  // HandlerOptions::device_threads; 0: the number of CPUs.
  std::size_t device_threads = 0;
  // HandlerOptions::heartbeat
  std::chrono::milliseconds heartbeat{5'000};
};

// Reads the whole request from `in` (JSON when it starts with '{', object
// lines otherwise), checks it, then runs it against the connectors the
// object servers' configs name, writing the result document to `out`.
// Where settings meet: --swift-dir beats the request's "swift_dir", which
// beats the first object server's swift_dir; --policy and the request's
// "storage_policy_index" must agree when both are given.
// Throws hlm::InputError for bad input and hlm::ConfigError for bad
// configuration, in both cases before the backend is touched. A backend
// that fails to open (hlm::Error from `make_connector`) fails only the
// replicas on its server's devices.
// `make_connector` builds the named connector from its settings (the
// registry lives above the library, in connectors/).
using ConnectorMaker =
  std::function<std::unique_ptr<connector::Connector>(std::string_view name, Settings settings)>;

Summary run_handler(const HandlerCommand& command,
                    const ConnectorMaker& make_connector,
                    std::istream& in,
                    std::ostream& out);

} // namespace hlm::handler
