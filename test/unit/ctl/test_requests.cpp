#include "queue_fixture.hpp"

#include <hlm/ctl/requests.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::QueueFixture;

namespace {

const std::string k_object = "/20261122120000.000/migrate/AUTH_test/c/0/o";
const std::string k_container = "/20261122120001.000/recall/AUTH_test/c/0";
const std::string k_other_object = "/20261122120002.000/migrate/AUTH_test/c/0/p";
const std::string k_other_container = "/20261122120003.000/migrate/AUTH_test/d/0";
const std::string k_other_account = "/20261122120004.000/migrate/AUTH_other/c/0";

std::vector<std::string>
listed(QueueFixture& q, const queue::Target& target, std::size_t* count = nullptr)
{
  std::vector<std::string> out;
  const auto n = requests_for(*q.queue, target, [&](const RequestLine& line) {
    out.push_back((line.which == queue::Which::pending ? "pending " : "failed ") + line.id
                  + (line.reason ? " (" + *line.reason + ")" : ""));
  });
  if (count != nullptr) {
    *count = n;
  }
  return out;
}

} // namespace

TEST_CASE("requests: what concerns a target, pending then failed", "[ctl]")
{
  QueueFixture q;
  for (const auto& id :
       {k_object, k_container, k_other_object, k_other_container, k_other_account}) {
    q.submit(id);
  }
  q.fail(k_object, "tape offline");

  std::size_t count = 0;
  // An object: its own requests and its container's.
  CHECK(listed(q, {"AUTH_test", "c", "o"}, &count)
        == std::vector<std::string>{"pending " + k_container,
                                    "failed " + k_object + " (tape offline)"});
  CHECK(count == 2);
  // A container: every request of it, objects included.
  CHECK(listed(q, {"AUTH_test", "c", ""})
        == std::vector<std::string>{"pending " + k_container,
                                    "pending " + k_other_object,
                                    "failed " + k_object + " (tape offline)"});
  // An account: all of its requests, no other account's.
  CHECK(listed(q, {"AUTH_test", "", ""}, &count).size() == 4);
  CHECK(listed(q, {"AUTH_nobody", "", ""}, &count).empty());
  CHECK(count == 0);
}

TEST_CASE("requests: the entry and the retry state come with each line", "[ctl]")
{
  QueueFixture q;
  q.submit(k_object);
  std::vector<RequestLine> lines;
  requests_for(*q.queue, {"AUTH_test", "c", ""}, [&](const RequestLine& line) {
    lines.push_back(line);
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].entry == queue::decode_entry(k_object));
  CHECK(lines[0].retry.attempts == 0);
  CHECK_FALSE(lines[0].reason);
}

TEST_CASE("requests: a list request shows where an object query meets its manifest", "[ctl]")
{
  QueueFixture q;
  q.submit(k_object);
  const std::string list = q.submit_list(Operation::recall, "c", {"a", "o"});
  q.submit_list(Operation::recall, "d", {"o"});
  // The container: its requests, and its list among the pending.
  CHECK(listed(q, {"AUTH_test", "c", ""})
        == std::vector<std::string>{"pending " + k_object, "pending " + list});
  // An object the list names, and one it does not.
  CHECK(listed(q, {"AUTH_test", "c", "a"}) == std::vector<std::string>{"pending " + list});
  CHECK(listed(q, {"AUTH_test", "c", "o"})
        == std::vector<std::string>{"pending " + k_object, "pending " + list});
  CHECK(listed(q, {"AUTH_test", "c", "b"}).empty());
  CHECK(listed(q, {"AUTH_test", "", ""}).size() == 3);

  std::vector<RequestLine> lines;
  requests_for(*q.queue, {"AUTH_test", "c", "a"}, [&](const RequestLine& line) {
    lines.push_back(line);
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].is_list);
  CHECK(lines[0].list == queue::ListProgress{2, 0, 0});
  CHECK(lines[0].entry.target.container == "c");
  CHECK(queue::is_list_id(lines[0].entry.target.object));
}
