// hlm.conf's on_complete: the program gets each document on its stdin; a
// failing or hanging one is said and ended, and the run goes on.

#include "../support/temp_dir.hpp"

#include <hlm/dispatch/completion_hook.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::dispatch;

namespace {

std::vector<nlohmann::json>
read_lines(const std::filesystem::path& path)
{
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

} // namespace

TEST_CASE("completion hook: each document on the program's stdin", "[dispatch]")
{
  test::TempDir dir;
  const auto log = dir.path() / "hook.log";
  std::vector<std::string> said;
  std::mutex mutex;
  {
    CompletionHook hook({"/bin/sh", "-c", "cat >> '" + log.string() + "'"},
                        std::chrono::seconds(10),
                        [&](const std::string& m) {
                          std::lock_guard lock(mutex);
                          said.push_back(m);
                        });
    for (int i = 0; i < 10; ++i) {
      hook.notify({{"id", "/r" + std::to_string(i)}, {"outcome", "completed"}});
    }
    hook.finish();
    CHECK(read_lines(log).size() == 10);
    hook.notify({{"id", "/after"}, {"outcome", "failed"}});
  } // the destructor waits too
  const auto lines = read_lines(log);
  REQUIRE(lines.size() == 11);
  std::set<std::string> ids;
  for (const auto& line : lines) {
    ids.insert(line.at("id").get<std::string>());
  }
  CHECK(ids.count("/r0") == 1);
  CHECK(ids.count("/after") == 1);
  CHECK(said.empty());
}

TEST_CASE("completion hook: a failing or hanging program is said and ended", "[dispatch]")
{
  std::vector<std::string> said;
  std::mutex mutex;
  const auto say = [&](const std::string& m) {
    std::lock_guard lock(mutex);
    said.push_back(m);
  };
  {
    CompletionHook failing({"/bin/sh", "-c", "cat >/dev/null; echo no mail server >&2; exit 7"},
                           std::chrono::seconds(10),
                           say);
    failing.notify({{"id", "/f"}});
  }
  REQUIRE(said.size() == 1);
  CHECK(said[0] == "on_complete for /f: exited 7: no mail server");
  said.clear();
  const auto started = std::chrono::steady_clock::now();
  {
    CompletionHook hanging({"/bin/sh", "-c", "sleep 30"}, std::chrono::seconds(1), say);
    hanging.notify({{"id", "/h"}});
  }
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
  REQUIRE(said.size() == 1);
  CHECK(said[0] == "on_complete for /h: ended after 1 s (on_complete_timeout)");
  said.clear();
  {
    CompletionHook missing({"/nonexistent/hook"}, std::chrono::seconds(1), say);
    missing.notify({{"id", "/m"}});
  }
  REQUIRE(said.size() == 1);
  CHECK_THAT(said[0], Catch::StartsWith("on_complete for /m: cannot run"));
}
