#include <hlm/connector/connector.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace hlm;
using namespace hlm::connector;

namespace {

// Intentionally simplistic: answers with a fixed number of outcomes.
class CountingConnector final : public Connector
{
public:
  explicit CountingConnector(std::size_t answers)
    : m_answers(answers)
  {
  }

private:
  std::vector<Outcome>
  apply(Operation, std::span<const Item>) override
  {
    return answer();
  }
  std::vector<Outcome>
  answer() const
  {
    return std::vector<Outcome>(m_answers);
  }
  std::size_t m_answers;
};

// Places every item on one volume, with a fixed number of answers.
class PlacingConnector final : public Connector
{
public:
  explicit PlacingConnector(std::size_t answers)
    : m_answers(answers)
  {
  }

private:
  std::vector<Outcome>
  apply(Operation, std::span<const Item> items) override
  {
    return std::vector<Outcome>(items.size());
  }
  std::vector<std::optional<Placement>>
  placements(std::span<const Item>) override
  {
    return std::vector<std::optional<Placement>>(m_answers,
                                                 Placement{"T00001", 7, 3, false, false});
  }
  std::size_t m_answers;
};

} // namespace

TEST_CASE("Connector::run insists on one outcome per item", "[connector]")
{
  const std::vector<Item> items = {{"/a/c/o1", "/f1"}, {"/a/c/o2", "/f2"}};
  CountingConnector exact(2);
  CHECK(exact.run(Operation::status, items).size() == 2);
  CountingConnector short_answer(1);
  CHECK_THROWS_WITH(short_answer.run(Operation::migrate, items),
                    Catch::Contains("1 outcomes for 2 objects"));
}

TEST_CASE("Connector::locate places nothing by default", "[connector]")
{
  const std::vector<Item> items = {{"/a/c/o1", "/f1"}, {"/a/c/o2", "/f2"}, {"/a/c/o3", "/f3"}};
  CountingConnector connector(3);
  const auto placed = connector.locate(items);
  REQUIRE(placed.size() == 3);
  CHECK(std::none_of(placed.begin(), placed.end(), [](const auto& p) { return p.has_value(); }));
  CHECK(connector.locate({}).empty());
}

TEST_CASE("Connector::locate insists on one placement per item", "[connector]")
{
  const std::vector<Item> items = {{"/a/c/o1", "/f1"}, {"/a/c/o2", "/f2"}};
  PlacingConnector exact(2);
  const auto placed = exact.locate(items);
  REQUIRE(placed.size() == 2);
  CHECK(placed[1] == Placement{"T00001", 7, 3, false, false});
  PlacingConnector long_answer(3);
  CHECK_THROWS_WITH(long_answer.locate(items), Catch::Contains("3 placements for 2 objects"));
}
