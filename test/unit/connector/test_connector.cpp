#include <connectors/builtin.hpp>
#include <hlm/connector/connector.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

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
  std::vector<Outcome> apply(Operation, std::span<const Item>) override { return answer(); }
  std::vector<Outcome> answer() const { return std::vector<Outcome>(m_answers); }
  std::size_t m_answers;
};

} // namespace

TEST_CASE("states and operations round-trip through their names", "[connector]")
{
  for (const auto state : {ObjectState::resident, ObjectState::premigrated,
                           ObjectState::migrated, ObjectState::unknown}) {
    CHECK(parse_object_state(to_string(state)) == state);
  }
  for (const auto op : {Operation::migrate, Operation::recall, Operation::status}) {
    CHECK(parse_operation(to_string(op)) == op);
  }
  CHECK_FALSE(parse_object_state("Resident"));
  CHECK_FALSE(parse_operation("delete"));
}

TEST_CASE("Connector::run insists on one outcome per item", "[connector]")
{
  const std::vector<Item> items = {{"/a/c/o1", "/f1"}, {"/a/c/o2", "/f2"}};
  CountingConnector exact(2);
  CHECK(exact.run(Operation::status, items).size() == 2);
  CountingConnector short_answer(1);
  CHECK_THROWS_WITH(short_answer.run(Operation::migrate, items),
                    Catch::Contains("1 outcomes for 2 objects"));
}

TEST_CASE("the registry builds known connectors and rejects others", "[connector]")
{
  bool has_dummy = false;
  for (const auto& info : builtin_connectors()) {
    has_dummy = has_dummy || info.name == "dummy";
  }
  CHECK(has_dummy);
  CHECK_THROWS_WITH(create_connector("dumy", Settings("[hlm:dumy]", {})),
                    Catch::Contains("unknown connector \"dumy\"")
                      && Catch::Contains("did you mean \"dummy\""));
  CHECK_THROWS_WITH(create_connector("dummy", Settings("[hlm:dummy]", {{"colour", "red"}})),
                    Catch::Contains("unknown key \"colour\""));
}
