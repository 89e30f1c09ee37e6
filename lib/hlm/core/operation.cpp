#include <hlm/core/operation.hpp>

namespace hlm {

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

std::optional<Operation>
parse_operation(std::string_view text)
{
  for (const auto operation : {Operation::migrate, Operation::recall, Operation::status}) {
    if (text == to_string(operation)) {
      return operation;
    }
  }
  return std::nullopt;
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

} // namespace hlm
