#pragma once

#include <hlm/connector/connector.hpp>

#include <memory>

namespace hlm::connector::exec {

// The `exec` connector: SwiftHLM's generic backend interface as a program.
// Each call (one batch) runs the configured program once, no shell, with a
// JSON request on its stdin, and reads a JSON response from its stdout;
// protocol version 1, specified in hlm-connector(7). estimate() runs it
// with a version-2 estimate request; a program that does not answer one
// (a version-1 program refuses it) gives no estimate, with a warning line
// on stderr that names the program and why. Settings: `command`
// (required: program and arguments, split at spaces and tabs, no quoting),
// `timeout` (seconds per call, default 3600) and `max_output` (bytes of
// response, at most 1 GiB; default 1 MiB + 4 KiB per object of the batch).
// Throws hlm::ConfigError for bad settings.
// Whatever goes wrong with a run (the program missing, crashing, hanging,
// answering badly) fails the affected objects with a message naming the
// program and the cause; the connector itself never throws for it.
std::unique_ptr<Connector> create(Settings& settings);

} // namespace hlm::connector::exec
