#pragma once

#include <hlm/connector/connector.hpp>

#include <memory>
#include <span>
#include <string_view>

namespace hlm::connector {

// The connectors compiled into this build: an explicit table, each entry
// guarded by its HLM_HAVE_CONNECTOR_<NAME> option. No static-initializer
// registration, which linkers drop from static libraries.
std::span<const ConnectorInfo> builtin_connectors();

// Creates connector `name` with `settings` and checks that every setting was
// used. Throws hlm::ConfigError for an unknown name (with a "did you mean"
// hint) or bad settings.
std::unique_ptr<Connector> create_connector(std::string_view name, Settings settings);

} // namespace hlm::connector
