#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <connectors/builtin.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string>
#include <vector>

#ifdef HLM_HAVE_CONNECTOR_DUMMY
#include <connectors/dummy/dummy.hpp>
#endif
#ifdef HLM_HAVE_CONNECTOR_TAPESIM
#include <connectors/tapesim/tapesim.hpp>
#endif
#ifdef HLM_HAVE_CONNECTOR_EXEC
#include <connectors/exec/exec.hpp>
#endif
#ifdef HLM_HAVE_CONNECTOR_LTFSDM
#include <connectors/ltfsdm/ltfsdm.hpp>
#endif

namespace hlm::connector {

namespace {

// A vector, not an array: with every connector option off the table is
// empty, and a zero-length array is ill-formed.
const std::vector<ConnectorInfo> k_builtin = {
#ifdef HLM_HAVE_CONNECTOR_DUMMY
  {"dummy", "state only, kept in sqlite (the seed's reference backend)", &dummy::create},
#endif
#ifdef HLM_HAVE_CONNECTOR_TAPESIM
  {"tapesim", "a simulated tape library: cartridges, drives, timing model", &tapesim::create},
#endif
#ifdef HLM_HAVE_CONNECTOR_EXEC
  {"exec", "any program speaking JSON on stdin/stdout, see hlm-connector(7)", &exec::create},
#endif
#ifdef HLM_HAVE_CONNECTOR_LTFSDM
  {"ltfsdm", "LTFS Data Management, through its ltfsdm command", &ltfsdm::create},
#endif
};

} // namespace

std::span<const ConnectorInfo>
builtin_connectors()
{
  return k_builtin;
}

std::unique_ptr<Connector>
create_connector(std::string_view name, Settings settings)
{
  std::vector<std::string> names;
  for (const auto& info : builtin_connectors()) {
    if (info.name == name) {
      auto connector = info.create(settings);
      settings.check_all_used();
      return connector;
    }
    names.emplace_back(info.name);
  }
  auto hint = did_you_mean(name, names);
  if (hint.empty()) {
    hint = fmt::format(" (built in: {})", fmt::join(names, ", "));
  }
  throw ConfigError(fmt::format("unknown connector \"{}\"{}", printable(name), hint));
}

} // namespace hlm::connector
