#include <hlm/connector/connector.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

namespace hlm::connector {

std::string_view
to_string(ObjectState state)
{
  switch (state) {
  case ObjectState::resident:
    return "resident";
  case ObjectState::premigrated:
    return "premigrated";
  case ObjectState::migrated:
    return "migrated";
  case ObjectState::unknown:
    break;
  }
  return "unknown";
}

std::string_view
to_string(Operation operation)
{
  switch (operation) {
  case Operation::migrate:
    return "migrate";
  case Operation::recall:
    return "recall";
  case Operation::status:
    break;
  }
  return "status";
}

std::optional<ObjectState>
parse_object_state(std::string_view text)
{
  for (const auto state : {ObjectState::resident,
                           ObjectState::premigrated,
                           ObjectState::migrated,
                           ObjectState::unknown}) {
    if (text == to_string(state)) {
      return state;
    }
  }
  return std::nullopt;
}

std::optional<Operation>
parse_operation(std::string_view text)
{
  for (const auto operation :
       {Operation::migrate, Operation::recall, Operation::status}) {
    if (text == to_string(operation)) {
      return operation;
    }
  }
  return std::nullopt;
}

std::vector<Outcome>
Connector::run(Operation operation, std::span<const Item> items)
{
  std::vector<Outcome> outcomes;
  switch (operation) {
  case Operation::migrate:
    outcomes = migrate(items);
    break;
  case Operation::recall:
    outcomes = recall(items);
    break;
  case Operation::status:
    outcomes = status(items);
    break;
  }
  if (outcomes.size() != items.size()) {
    throw Error(fmt::format("connector returned {} outcomes for {} objects",
                            outcomes.size(),
                            items.size()));
  }
  return outcomes;
}

} // namespace hlm::connector
