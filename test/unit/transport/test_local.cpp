#include <hlm/transport/transport.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::transport;

namespace {

struct Captured
{
  RunResult result;
  std::string output;
};

Captured
run_local(const std::vector<std::string>& argv, std::string_view input = {})
{
  auto local = make_local_transport();
  Captured captured;
  captured.result = local->run(argv, input, [&](std::string_view chunk) {
    captured.output += chunk;
  });
  return captured;
}

// Not all bytes equal, so that a lost or reordered chunk shows.
std::string
pattern(std::size_t size)
{
  std::string data(size, '\0');
  std::uint32_t x = 12345;
  for (auto& c : data) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return data;
}

} // namespace

TEST_CASE("local transport runs a program with stdin and stdout", "[transport]")
{
  const auto captured = run_local({"/bin/cat"}, "hello\nworld\n");
  CHECK(captured.output == "hello\nworld\n");
  CHECK(captured.result.succeeded());
  CHECK(captured.result.exit_status == 0);
  CHECK_FALSE(captured.result.signal);
  CHECK(captured.result.error_output.empty());
  CHECK_FALSE(captured.result.input_truncated);
  CHECK(make_local_transport()->describe() == "local");
}

TEST_CASE("local transport finds programs through PATH without a shell", "[transport]")
{
  const auto captured = run_local({"echo", "$HOME", "a  b", "`id`"});
  CHECK(captured.output == "$HOME a  b `id`\n");
}

TEST_CASE("local transport reports the exit status and stderr", "[transport]")
{
  const auto captured = run_local({"/bin/sh", "-c", "echo oops >&2; exit 3"});
  CHECK(captured.result.exit_status == 3);
  CHECK_FALSE(captured.result.succeeded());
  CHECK_FALSE(captured.result.signal);
  CHECK(captured.result.error_output == "oops\n");
}

TEST_CASE("local transport reports the signal that killed the program", "[transport]")
{
  const auto killed = run_local({"/bin/sh", "-c", "kill -KILL $$"});
  CHECK_FALSE(killed.result.exit_status);
  CHECK(killed.result.signal == "KILL");
  CHECK_FALSE(killed.result.succeeded());

  const auto terminated = run_local({"/bin/sh", "-c", "kill -TERM $$"});
  CHECK(terminated.result.signal == "TERM");
}

TEST_CASE("local transport fails clearly when the program does not exist", "[transport]")
{
  auto local = make_local_transport();
  try {
    local->run({"/nonexistent/hlm-no-such-program", "x"}, "", [](std::string_view) {});
    FAIL("no exception");
  } catch (const TransportError& e) {
    CHECK_FALSE(e.transient());
    CHECK(std::string(e.what())
          == "cannot run \"/nonexistent/hlm-no-such-program\": No such file or directory");
  }
  CHECK_THROWS_AS(local->run({"hlm-no-such-program-in-path"}, "", [](std::string_view) {}),
                  TransportError);
  CHECK_THROWS_AS(local->run({}, "", [](std::string_view) {}), TransportError);
}

TEST_CASE("local transport streams 20 MB through cat without deadlock", "[transport]")
{
  const std::string input = pattern(20 * 1024 * 1024);
  const auto start = std::chrono::steady_clock::now();
  std::size_t chunks = 0;
  std::string output;
  output.reserve(input.size());
  auto local = make_local_transport();
  const auto result = local->run({"cat"}, input, [&](std::string_view chunk) {
    ++chunks;
    output += chunk;
  });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(result.succeeded());
  CHECK(output.size() == input.size());
  CHECK(output == input);
  CHECK(chunks > 1); // streamed, not collected
  CHECK(elapsed < std::chrono::seconds(20));
}

TEST_CASE("local transport drains large stdout and stderr together", "[transport]")
{
  // Each stream is far bigger than a pipe buffer; reading only one of them
  // would block the program forever.
  const auto captured = run_local(
    {"/bin/sh", "-c", "head -c 3000000 /dev/zero >&2; head -c 3000000 /dev/zero; echo tail >&2"});
  CHECK(captured.result.succeeded());
  CHECK(captured.output.size() == 3'000'000);
  // stderr keeps its last 64 KiB only.
  CHECK(captured.result.error_output.size() == 64 * 1024);
  CHECK(captured.result.error_output.substr(64 * 1024 - 5) == "tail\n");
}

TEST_CASE("local transport survives a program that stops reading its input", "[transport]")
{
  // Without SIGPIPE handling this would kill the test process.
  const std::string input = pattern(20 * 1024 * 1024);
  const auto captured = run_local({"/bin/sh", "-c", "head -c 10 >/dev/null; exit 3"}, input);
  CHECK(captured.result.exit_status == 3);
  CHECK(captured.result.input_truncated);

  // Again, to check that no SIGPIPE is left pending for the next run.
  const auto again = run_local({"/bin/sh", "-c", "exit 0"}, input);
  CHECK(again.result.exit_status == 0);
  CHECK(again.result.input_truncated);
  CHECK(run_local({"cat"}, "x").output == "x");
}

TEST_CASE("local transport passes an exception from the output callback", "[transport]")
{
  auto local = make_local_transport();
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(local->run({"/bin/sh", "-c", "echo first; exec sleep 30"},
                               "",
                               [](std::string_view) { throw std::runtime_error("stop"); }),
                    "stop");
  // The child was killed, not waited for.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("local transport keeps a conversation on one channel", "[transport]")
{
  auto local = make_local_transport();
  std::string output;
  auto channel = local->start({"/bin/sh", "-c", "while read -r line; do echo \"got $line\"; done"},
                              [&](std::string_view chunk) { output += chunk; });
  REQUIRE(channel->send("one\n"));
  REQUIRE(channel->wait_for([&] { return output == "got one\n"; }));
  REQUIRE(channel->send("two\n"));
  REQUIRE(channel->wait_for([&] { return output == "got one\ngot two\n"; }));
  const auto result = channel->finish();
  CHECK(result.succeeded());
  CHECK_FALSE(result.input_truncated);
}

TEST_CASE("local transport's channel says when the program took only part", "[transport]")
{
  auto local = make_local_transport();
  std::string output;
  auto channel = local->start({"head", "-c", "3"},
                              [&](std::string_view chunk) { output += chunk; });
  CHECK_FALSE(channel->send(pattern(4 * 1024 * 1024)));
  const auto result = channel->finish();
  CHECK(result.exit_status == 0);
  CHECK(result.input_truncated);
  CHECK(output.size() == 3);
}

TEST_CASE("local transport's channel stops waiting when the program ends first", "[transport]")
{
  auto local = make_local_transport();
  std::string output;
  auto channel = local->start({"/bin/sh", "-c", "read -r line; echo \"half an answer\""},
                              [&](std::string_view chunk) { output += chunk; });
  REQUIRE(channel->send("question\n"));
  // The program exits without the answer waited for: wait_for returns
  // (it must not hang on the stdin still held open for more questions).
  CHECK_FALSE(channel->wait_for([&] { return output.find("whole") != std::string::npos; }));
  CHECK(output == "half an answer\n");
  CHECK_FALSE(channel->send("another\n"));
  const auto result = channel->finish();
  CHECK(result.exit_status == 0);
  CHECK(result.input_truncated);
}
