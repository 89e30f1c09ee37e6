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
