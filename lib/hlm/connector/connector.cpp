#include <hlm/connector/connector.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

namespace hlm::connector {

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
