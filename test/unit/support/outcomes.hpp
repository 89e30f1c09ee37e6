#pragma once

#include <hlm/connector/connector.hpp>

#include <catch2/catch.hpp>

#include <vector>

namespace hlm::test {

// The states of a connector's outcomes, each checked to have succeeded.
inline std::vector<ObjectState>
states(const std::vector<connector::Outcome>& outcomes)
{
  std::vector<ObjectState> out;
  for (const auto& outcome : outcomes) {
    INFO(outcome.error().value_or(""));
    CHECK(outcome.ok());
    out.push_back(outcome.state);
  }
  return out;
}

} // namespace hlm::test
