#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/util/error.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace hlm::test {

// Intentionally simplistic: remembers what it was given, answers `state`
// (migrated) for everything, and fails whole calls whose first object is `fail_on`.
// With `rebuilds` set it declares it can rebuild missing replicas (and, on
// recall, creates `rebuilt_name` in each such item's object_dir).
class RecordingConnector final : public connector::Connector
{
public:
  std::vector<connector::Outcome>
  apply(Operation operation, std::span<const connector::Item> items) override
  {
    operations.push_back(operation);
    for (const auto& item : items) {
      if (operation != Operation::recall) {
        break;
      }
      if (item.file.empty() && !rebuilt_name.empty()) {
        std::filesystem::create_directories(item.object_dir);
        std::ofstream(std::filesystem::path(item.object_dir) / rebuilt_name) << "data";
      }
    }
    return answer(items);
  }

  bool
  can_rebuild() const override
  {
    return rebuilds;
  }

  std::vector<connector::Item> seen;
  std::vector<Operation> operations; // of each call
  // What estimate() answers (nullopt: cannot estimate); `estimated` counts
  // the items it was asked about.
  std::optional<connector::Estimate> estimate_answer;
  std::size_t estimated = 0;
  ObjectState state = ObjectState::migrated; // what every item answers
  // Set: locate() places every item on this volume, its position the
  // item's index in the call; `locates` counts the calls.
  std::optional<connector::Placement> place;
  int locates = 0;
  bool rebuilds = false;
  std::string rebuilt_name;
  std::string fail_on;
  int calls = 0;

private:
  std::optional<connector::Estimate>
  plan(Operation /*operation*/, std::span<const connector::Item> items) override
  {
    estimated += items.size();
    return estimate_answer;
  }

  std::vector<std::optional<connector::Placement>>
  placements(std::span<const connector::Item> items) override
  {
    ++locates;
    std::vector<std::optional<connector::Placement>> out;
    for (std::size_t i = 0; i < items.size(); ++i) {
      out.push_back(place);
      if (out.back()) {
        out.back()->position = i;
      }
    }
    return out;
  }

  std::vector<connector::Outcome>
  answer(std::span<const connector::Item> items)
  {
    ++calls;
    if (!items.empty() && items.front().object == fail_on) {
      throw Error("tape library offline");
    }
    seen.insert(seen.end(), items.begin(), items.end());
    return std::vector<connector::Outcome>(items.size(), connector::Outcome{state, std::nullopt});
  }
};

} // namespace hlm::test
