#include <hlm/connector/connector.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

namespace hlm::connector {

Outcome
Outcome::failed(std::string message, FailureKind kind)
{
  return {ObjectState::unknown, make_failure(kind, std::move(message))};
}

std::vector<Outcome>
Connector::run(Operation operation, std::span<const Item> items)
{
  auto outcomes = apply(operation, items);
  if (outcomes.size() != items.size()) {
    throw Error(
      fmt::format("connector returned {} outcomes for {} objects", outcomes.size(), items.size()));
  }
  return outcomes;
}

std::vector<std::optional<Placement>>
Connector::locate(std::span<const Item> items)
{
  auto placed = placements(items);
  if (placed.size() != items.size()) {
    throw Error(
      fmt::format("connector returned {} placements for {} objects", placed.size(), items.size()));
  }
  return placed;
}

std::vector<std::optional<Placement>>
Connector::placements(std::span<const Item> items)
{
  return std::vector<std::optional<Placement>>(items.size());
}

Estimate&
Estimate::operator+=(const Estimate& more)
{
  items += more.items;
  bytes += more.bytes;
  cartridges += more.cartridges;
  mounts += more.mounts;
  drive_seconds += more.drive_seconds;
  wall_seconds += more.wall_seconds;
  return *this;
}

std::optional<Estimate>
Connector::estimate(Operation operation, std::span<const Item> items)
{
  if (operation == Operation::status) {
    throw Error("a status has nothing to estimate");
  }
  return plan(operation, items);
}

std::optional<Estimate>
Connector::plan(Operation /*operation*/, std::span<const Item> /*items*/)
{
  return std::nullopt;
}

} // namespace hlm::connector
