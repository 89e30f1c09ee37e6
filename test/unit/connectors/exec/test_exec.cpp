#include "../../support/temp_dir.hpp"

#include <hlm/util/error.hpp>

#include <connectors/builtin.hpp>
#include <connectors/exec/protocol.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

using namespace hlm;
using namespace hlm::connector;
using Catch::Contains;
using S = ObjectState;

namespace {

std::unique_ptr<Connector>
make_exec(const std::string& command, const std::string& timeout = "30")
{
  return create_connector("exec",
                          Settings("[hlm:exec]", {{"command", command}, {"timeout", timeout}}));
}

// An executable shell script `name` in `dir`.
std::string
script(const test::TempDir& dir, const std::string& name, const std::string& body)
{
  const auto path = dir.write(name, "#!/bin/sh\n" + body);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path.string();
}

// A script that reads the request and prints `response`.
std::string
answering(const test::TempDir& dir, const std::string& response, int exit_status = 0)
{
  return script(dir,
                "answer",
                "cat >/dev/null\ncat <<'EOF'\n" + response + "\nEOF\nexit "
                  + std::to_string(exit_status) + "\n");
}

nlohmann::json
entry(const std::string& file, const std::string& status, const nlohmann::json& error = nullptr)
{
  return {{"file", file}, {"status", status}, {"error", error}};
}

std::string
response(const std::vector<nlohmann::json>& objects, int version = 1)
{
  return nlohmann::json{{"version", version}, {"objects", objects}}.dump();
}

std::vector<ObjectState>
states(const std::vector<Outcome>& outcomes)
{
  std::vector<ObjectState> out;
  for (const auto& outcome : outcomes) {
    out.push_back(outcome.state);
  }
  return out;
}

std::string
read_text(const std::filesystem::path& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Catches what this process writes to stderr (fd 2) while it lives.
class StderrCapture
{
public:
  explicit StderrCapture(const test::TempDir& dir)
    : m_path(dir.path() / "stderr.txt")
  {
    std::fflush(stderr);
    m_saved = ::dup(2);
    const int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(m_saved >= 0);
    REQUIRE(fd >= 0);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~StderrCapture()
  {
    restore();
  }
  StderrCapture(const StderrCapture&) = delete;
  StderrCapture& operator=(const StderrCapture&) = delete;

  // What was written so far; stderr is this process's again.
  std::string
  text()
  {
    restore();
    return read_text(m_path);
  }

private:
  void
  restore()
  {
    if (m_saved >= 0) {
      std::fflush(stderr);
      ::dup2(m_saved, 2);
      ::close(m_saved);
      m_saved = -1;
    }
  }

  std::filesystem::path m_path;
  int m_saved = -1;
};

// Two items whose data files exist.
struct Files
{
  explicit Files(const test::TempDir& dir)
    : items{{"/a/c/o1", dir.write("srv/1.data", "one").string()},
            {"/a/c/o2", dir.write("srv/2.data", "two").string()}}
  {
  }
  std::vector<Item> items;
};

} // namespace

TEST_CASE("exec connector: the example program round trip", "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto& ab = files.items;
  const std::vector<Item> a = {ab[0]};
  const auto command = std::string(HLM_EXEC_EXAMPLE) + " --state-dir "
                       + (dir.path() / "state").string();
  auto exec = make_exec(command);

  auto outcomes = exec->run(Operation::status, ab);
  CHECK(states(outcomes) == std::vector{S::resident, S::resident});
  CHECK(outcomes[0].ok());
  CHECK(outcomes[1].ok());
  CHECK(states(exec->run(Operation::migrate, a)) == std::vector{S::migrated});
  CHECK(states(exec->run(Operation::status, ab)) == std::vector{S::migrated, S::resident});
  outcomes = exec->run(Operation::recall, ab);
  CHECK(states(outcomes) == std::vector{S::premigrated, S::resident});
  CHECK(outcomes[0].ok());

  // The state is the program's, kept across connector instances.
  CHECK(states(make_exec(command)->run(Operation::status, ab))
        == std::vector{S::premigrated, S::resident});
  const auto saved = nlohmann::json::parse(read_text(dir.path() / "state" / "state.json"));
  CHECK(saved == nlohmann::json{{ab[0].file, "premigrated"}, {ab[1].file, "resident"}});

  // A file that does not exist fails alone (the program exits 1).
  const std::vector<Item> with_missing = {ab[1],
                                          {"/a/c/gone", (dir.path() / "gone.data").string()}};
  outcomes = exec->run(Operation::migrate, with_missing);
  CHECK(outcomes[0].ok());
  CHECK(outcomes[0].state == S::migrated);
  CHECK(outcomes[1].state == S::unknown);
  CHECK(outcomes[1].error()
        == "exec connector: " + std::string(HLM_EXEC_EXAMPLE) + ": no such file");

  CHECK(exec->run(Operation::status, {}).empty());
}

TEST_CASE("exec connector: the request, its environment and the argv", "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto request = dir.path() / "request.json";
  const auto program = script(dir,
                              "record",
                              "cat > \"$1\"; echo \"$HLM_CONNECTOR_VERSION|$2|$#\" > \"$1.env\"\n"
                              "printf '{\"version\": 1, \"objects\": []}'\n");
  auto exec = make_exec(program + " \t" + request.string() + "  'two words'");
  // The same file twice goes once.
  const std::vector<Item> items = {files.items[0], files.items[1], files.items[0]};
  const auto outcomes = exec->run(Operation::recall, items);

  const auto sent = read_text(request);
  CHECK(sent.back() == '\n');
  CHECK(nlohmann::json::parse(sent)
        == nlohmann::json::parse(
          R"({"protocol": "hlm-connector", "version": 1, "operation": "recall", "objects": [)"
          R"({"object": "/a/c/o1", "file": ")"
          + items[0].file
          + R"("},)"
            R"({"object": "/a/c/o2", "file": ")"
          + items[1].file + R"("}]})"));
  // Split at whitespace, quotes kept as they are: no shell.
  CHECK(read_text(request.string() + ".env") == "1|'two|3\n");
  // The empty response answers for nobody.
  for (const auto& outcome : outcomes) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error()
          == "exec connector: " + program + ": the response has no entry for this file");
  }
}

TEST_CASE("exec connector: a program that hangs is killed at the timeout", "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto program = script(dir, "hang", "echo 'waiting for the library' >&2\nsleep 60\n");
  const auto start = std::chrono::steady_clock::now();
  // 3 s: ample time for the stderr line, even on a loaded machine.
  const auto outcomes = make_exec(program, "3")->run(Operation::migrate, files.items);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  REQUIRE(outcomes.size() == 2);
  for (const auto& outcome : outcomes) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error()
          == "exec connector: " + program
               + ": timed out after 3 s (stderr: waiting for the library)");
  }
}

TEST_CASE("exec connector: a program that crashes or exits oddly fails every object",
          "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto crash = script(dir, "crash", "echo 'about to crash' >&2\nkill -SEGV $$\n");
  for (const auto& outcome : make_exec(crash)->run(Operation::status, files.items)) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error()
          == "exec connector: " + crash + ": killed by signal SEGV (stderr: about to crash)");
  }
  const auto odd = script(dir, "odd", "exit 3\n");
  for (const auto& outcome : make_exec(odd)->run(Operation::status, files.items)) {
    CHECK(outcome.error() == "exec connector: " + odd + ": exited with status 3");
  }
}

TEST_CASE("exec connector: output that is not a response fails every object", "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto& items = files.items;
  const auto check_all = [&](const std::string& program, const std::string& cause) {
    const auto outcomes = make_exec(program)->run(Operation::migrate, items);
    REQUIRE(outcomes.size() == items.size());
    for (const auto& outcome : outcomes) {
      CHECK(outcome.state == S::unknown);
      CHECK_THAT(*outcome.error(), Contains("exec connector: " + program + ": " + cause));
    }
  };
  check_all(answering(dir, "this is not JSON"),
            "response is not JSON (error at byte 2): \"this is not JSON\" (exit status 0)");
  check_all(script(dir, "silent", "cat >/dev/null\n"), "no response on stdout (exit status 0)");
  check_all(
    answering(dir,
              response({entry(items[0].file, "migrated"), entry(items[1].file, "migrated")}, 2)),
    "response has protocol version 2, expected 1");
  check_all(answering(dir, R"({"objects": []})"), "response has no \"version\"");
  check_all(answering(dir, R"({"version": 1, "objects": {}})"), "response has no \"objects\" list");
  check_all(
    answering(dir, response({entry(items[0].file, "migrated"), entry("/etc/passwd", "migrated")})),
    "response answers for \"/etc/passwd\", which was not requested");
  check_all(answering(dir, response({nlohmann::json{{"status", "migrated"}}})),
            "response has an entry without a \"file\": \"{\"status\":\"migrated\"}\"");
  check_all(answering(dir, "[1, 2]", 1),
            "response is not a JSON object: \"[1, 2]\" (exit status 1)");
}

TEST_CASE("exec connector: a response missing, repeating or garbling one object fails that one",
          "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto& items = files.items;

  const auto missing = answering(dir, response({entry(items[1].file, "migrated")}));
  auto outcomes = make_exec(missing)->run(Operation::migrate, items);
  CHECK(outcomes[0].state == S::unknown);
  CHECK(outcomes[0].error()
        == "exec connector: " + missing + ": the response has no entry for this file");
  CHECK(outcomes[1].ok());
  CHECK(outcomes[1].state == S::migrated);

  const auto twice = answering(dir,
                               response({entry(items[0].file, "migrated"),
                                         entry(items[1].file, "migrated"),
                                         entry(items[0].file, "migrated")}));
  outcomes = make_exec(twice)->run(Operation::migrate, items);
  CHECK(outcomes[0].error()
        == "exec connector: " + twice + ": the response answers for this file more than once");
  CHECK(outcomes[1].ok());

  const auto invalid = answering(
    dir,
    response({entry(items[0].file, "on tape"), entry(items[1].file, "resident")}));
  outcomes = make_exec(invalid)->run(Operation::status, items);
  CHECK(outcomes[0].state == S::unknown);
  CHECK(outcomes[0].error()
        == "exec connector: " + invalid + ": the response gives the invalid status \"on tape\"");
  CHECK(outcomes[1].ok());
  CHECK(outcomes[1].state == S::resident);

  // Exit status 1: the program's own error for one object.
  const auto partial = answering(dir,
                                 response({entry(items[0].file, "resident", "no tape\nin pool"),
                                           entry(items[1].file, "migrated")}),
                                 1);
  outcomes = make_exec(partial)->run(Operation::migrate, items);
  CHECK(outcomes[0].state == S::resident);
  CHECK(outcomes[0].error() == "exec connector: " + partial + ": no tape\\nin pool");
  CHECK(outcomes[1].ok());
}

TEST_CASE("exec connector: exit status 2 fails every object with stderr's reason",
          "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto offline = script(
    dir,
    "offline",
    "cat >/dev/null\necho 'checking' >&2\necho 'tape library offline' >&2\n"
    "echo '' >&2\nexit 2\n");
  for (const auto& outcome : make_exec(offline)->run(Operation::migrate, files.items)) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error()
          == "exec connector: " + offline
               + ": could do nothing (exit status 2): tape library offline");
  }
  // A valid response still gives the states.
  const auto with_states = script(
    dir,
    "states",
    "cat >/dev/null\ncat <<'EOF'\n"
      + response({entry(files.items[0].file, "migrated"), entry(files.items[1].file, "resident")})
      + "\nEOF\nexit 2\n");
  const auto outcomes = make_exec(with_states)->run(Operation::recall, files.items);
  CHECK(states(outcomes) == std::vector{S::migrated, S::resident});
  CHECK(outcomes[0].error()
        == "exec connector: " + with_states
             + ": could do nothing (exit status 2): no reason given on stderr");
}

TEST_CASE("exec connector: a program that cannot be started fails every object",
          "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto missing = (dir.path() / "no-such-program").string();
  for (const auto& outcome : make_exec(missing + " --flag")->run(Operation::migrate, files.items)) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error()
          == "exec connector: cannot run \"" + missing + "\": No such file or directory");
  }
  const auto not_executable = dir.write("plain", "#!/bin/sh\n").string();
  for (const auto& outcome : make_exec(not_executable)->run(Operation::status, files.items)) {
    CHECK(outcome.error()
          == "exec connector: cannot run \"" + not_executable + "\": Permission denied");
  }
}

TEST_CASE("exec connector: too much output, and names JSON cannot carry", "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto chatty = script(dir, "chatty", "cat >/dev/null\nexec yes\n");
  auto exec = create_connector(
    "exec",
    Settings("[hlm:exec]", {{"command", chatty}, {"max_output", "4096"}}));
  for (const auto& outcome : exec->run(Operation::status, files.items)) {
    CHECK(outcome.error()
          == "exec connector: " + chatty + ": wrote more than 4096 bytes on stdout (max_output)");
  }

  const auto program = std::string(HLM_EXEC_EXAMPLE) + " --state-dir "
                       + (dir.path() / "state").string();
  const std::vector<Item> items = {{"/a/c/\xff", files.items[0].file}, files.items[1]};
  const auto outcomes = make_exec(program)->run(Operation::status, items);
  CHECK(outcomes[0].error()
        == "exec connector: " + std::string(HLM_EXEC_EXAMPLE)
             + ": the object name or file path is not valid UTF-8, which JSON cannot carry");
  CHECK(outcomes[1].ok());
  CHECK(outcomes[1].state == S::resident);
}

TEST_CASE("exec connector: settings", "[connector][exec]")
{
  CHECK_THROWS_WITH(create_connector("exec", Settings("[hlm:exec] in x.conf", {})),
                    "missing \"command\" in [hlm:exec] in x.conf: the program to run");
  CHECK_THROWS_WITH(create_connector("exec", Settings("[hlm:exec]", {{"command", " \t "}})),
                    "empty \"command\" in [hlm:exec]");
  for (const auto* bad : {"0", "-1", "1h", "1.5", "", "99999999999"}) {
    CHECK_THROWS_AS(make_exec("/bin/true", bad), ConfigError);
  }
  CHECK_THROWS_WITH(make_exec("/bin/true", "1h"),
                    "timeout = \"1h\" in [hlm:exec]: expected a whole number from 1 to 31622400");
  CHECK_THROWS_WITH(
    create_connector("exec",
                     Settings("[hlm:exec]", {{"command", "/bin/true"}, {"max_outpt", "1"}})),
    Contains("unknown key \"max_outpt\"") && Contains("did you mean \"max_output\""));
  CHECK(make_exec("/bin/true", "5"));
}

TEST_CASE("exec connector: a number JSON cannot hold fails the batch, not the handler",
          "[connector][exec]")
{
  // Found in review: nlohmann's out_of_range.406 escaped the connector.
  test::TempDir dir;
  const Files files(dir);
  const auto overflow = answering(dir, R"({"version": 1, "objects": [], "size": 1e999})");
  for (const auto& outcome : make_exec(overflow)->run(Operation::migrate, files.items)) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error()
          == "exec connector: " + overflow
               + ": response is not usable JSON: number overflow parsing '1e999' (exit status 0)");
  }
  // Exit status 2: the response is optional, so its failure does not matter.
  const auto nothing = answering(dir, R"({"version": 1, "objects": [1e999]})", 2);
  for (const auto& outcome : make_exec(nothing)->run(Operation::migrate, files.items)) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error()
          == "exec connector: " + nothing
               + ": could do nothing (exit status 2): no reason given on stderr");
  }
  // A number as long as the response is not quoted whole.
  const std::set<std::string, std::less<>> none;
  const auto long_number = "[1" + std::string(100'000, '0') + "e999]";
  try {
    exec::decode_response(long_number, none);
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(std::string_view(e.what()).starts_with("response is not usable JSON: number overflow"));
    CHECK(std::string_view(e.what()).size() < 300);
  }
}

TEST_CASE("exec connector: a response nested too deeply is refused, not dumped",
          "[connector][exec]")
{
  // Found in review: quoting a 2M-deep entry with dump() overflowed the stack.
  const std::set<std::string, std::less<>> files = {"/f"};
  const auto deep = [](std::size_t depth) {
    return R"({"version": 1, "objects": [)" + std::string(depth, '[') + std::string(depth, ']')
           + "]}";
  };
  CHECK_THROWS_WITH(exec::decode_response(deep(2'000'000), files),
                    "response is nested more than 64 levels deep");
  CHECK_THROWS_WITH(exec::decode_response(deep(63), files),
                    "response is nested more than 64 levels deep");
  // 64 levels in all are fine (this entry is just not an object).
  CHECK_THROWS_WITH(exec::decode_response(deep(62), files),
                    Contains("response has an entry that is not an object: \"[[[[["));

  // Large values are quoted briefly.
  std::string numbers = "[0";
  for (int i = 1; i < 100'000; ++i) {
    numbers += "," + std::to_string(i);
  }
  numbers += "]";
  try {
    exec::decode_response(R"({"version": )" + numbers + R"(, "objects": []})", files);
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(std::string(e.what())
          == "response has protocol version "
             "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,...,"
             " expected 1");
  }
  try {
    exec::decode_response(R"({"version": 1, "objects": [{"status": "migrated", "error": ")"
                            + std::string(1'000'000, 'x') + R"("}]})",
                          files);
    FAIL("no exception");
  } catch (const InputError& e) {
    CHECK(std::string_view(e.what()).starts_with(
      "response has an entry without a \"file\": \"{\"error\":\"xxx"));
    CHECK(std::string_view(e.what()).size() < 300);
  }
}

TEST_CASE("exec connector: max_output scales with the batch by default and is capped",
          "[connector][exec]")
{
  // Found in review: the default was 64 MiB and the setting allowed 1 TiB,
  // while parsing takes many times the response's size in memory.
  test::TempDir dir;
  const Files files(dir);
  // Default: 1 MiB + 4 KiB per object sent; two objects here.
  const auto big = script(dir, "big", "cat >/dev/null\nhead -c 1100000 /dev/zero | tr '\\0' ' '\n");
  for (const auto& outcome : make_exec(big)->run(Operation::status, files.items)) {
    CHECK(outcome.error()
          == "exec connector: " + big + ": wrote more than 1056768 bytes on stdout (max_output)");
  }
  // Within the default: a response of that size is read.
  const auto fits = script(dir,
                           "fits",
                           "cat >/dev/null\nhead -c 1000000 /dev/zero | tr '\\0' ' '\n");
  for (const auto& outcome : make_exec(fits)->run(Operation::status, files.items)) {
    CHECK(outcome.error() == "exec connector: " + fits + ": no response on stdout (exit status 0)");
  }
  // The setting replaces the default.
  const auto set = [&](const std::string& value) {
    return create_connector("exec",
                            Settings("[hlm:exec]", {{"command", big}, {"max_output", value}}));
  };
  for (const auto& outcome : set("2000000")->run(Operation::status, files.items)) {
    CHECK(outcome.error() == "exec connector: " + big + ": no response on stdout (exit status 0)");
  }
  CHECK(set("1073741824"));
  CHECK_THROWS_WITH(
    set("1073741825"),
    "max_output = \"1073741825\" in [hlm:exec]: expected a whole number from 1 to 1073741824");
}

TEST_CASE("exec connector: the timeout holds after the program closes its output",
          "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto detached = script(
    dir,
    "detached",
    "cat >/dev/null\necho '{}'\nexec >/dev/null 2>&1 </dev/null\nsleep 60\n");
  const auto start = std::chrono::steady_clock::now();
  for (const auto& outcome : make_exec(detached, "1")->run(Operation::migrate, files.items)) {
    CHECK(outcome.state == S::unknown);
    CHECK(outcome.error() == "exec connector: " + detached + ": timed out after 1 s");
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

TEST_CASE("exec connector: too much output carries the reason from stderr", "[connector][exec]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto chatty = script(dir, "chatty", "cat >/dev/null\necho 'debug mode on' >&2\nexec yes\n");
  auto exec = create_connector(
    "exec",
    Settings("[hlm:exec]", {{"command", chatty}, {"max_output", "4096"}}));
  for (const auto& outcome : exec->run(Operation::status, files.items)) {
    CHECK(outcome.error()
          == "exec connector: " + chatty
               + ": wrote more than 4096 bytes on stdout (max_output) (stderr: debug mode on)");
  }
}

TEST_CASE("exec protocol: the estimate request", "[connector][exec][estimate]")
{
  const std::vector<Item> items = {{"/a/c/o1", "/srv/1.data"}, {"/a/c/o2", "/srv/2.data"}};
  CHECK(
    exec::encode_estimate_request(Operation::recall, items)
    == R"({"protocol":"hlm-connector","version":2,"operation":"estimate",)"
       R"("estimate":{"operation":"recall","objects":[{"object":"/a/c/o1","file":"/srv/1.data"},)"
       R"({"object":"/a/c/o2","file":"/srv/2.data"}]}})");
  // No top-level "objects": a program that heeds neither version nor
  // operation finds nothing to migrate.
  const auto request = nlohmann::json::parse(exec::encode_estimate_request(Operation::migrate, {}));
  CHECK_FALSE(request.contains("objects"));
  CHECK(request["estimate"]
        == nlohmann::json{{"operation", "migrate"}, {"objects", nlohmann::json::array()}});
  // The other requests stay version 1.
  CHECK(nlohmann::json::parse(exec::encode_request(Operation::migrate, items))["version"] == 1);
}

TEST_CASE("exec protocol: an estimate answer", "[connector][exec][estimate]")
{
  const auto answer = [](const std::string& estimate) {
    return R"({"protocol": "hlm-connector", "version": 2, "estimate": )" + estimate + "}";
  };
  CHECK(exec::decode_estimate(answer(R"({"items": 2, "bytes": 6, "cartridges": 1, "mounts": 3,)"
                                     R"( "drive_seconds": 62.5, "wall_seconds": 31})"),
                              2)
        == Estimate{2, 6, 1, 3, 62.5, 31});
  // The program cannot estimate.
  CHECK_FALSE(exec::decode_estimate(answer("null"), 2));
  // Other keys are ignored; "protocol" is optional; the limits are taken.
  CHECK(exec::decode_estimate(R"({"version": 2, "note": [1], "estimate": {"items": 0,)"
                              R"( "bytes": 9007199254740992, "cartridges": 0, "mounts": 0,)"
                              R"( "drive_seconds": 9007199254740992, "wall_seconds": 0.0,)"
                              R"( "energy": "low"}})",
                              0)
        == Estimate{0, 9007199254740992ULL, 0, 0, 9007199254740992.0, 0});
}

TEST_CASE("exec protocol: an estimate answer that is garbage is refused",
          "[connector][exec][estimate]")
{
  const auto with = [](const std::string& field, const std::string& value) {
    nlohmann::ordered_json estimate = {{"items", 1},
                                       {"bytes", 3},
                                       {"cartridges", 1},
                                       {"mounts", 1},
                                       {"drive_seconds", 61},
                                       {"wall_seconds", 61}};
    auto text = R"({"version": 2, "estimate": )" + estimate.dump() + "}";
    if (!field.empty()) {
      const auto at = text.find("\"" + field + "\":");
      const auto end = text.find_first_of(",}", at);
      text.replace(at, end - at, "\"" + field + "\": " + value);
    }
    return text;
  };
  // The base answer is fine: each garbage below is its own.
  REQUIRE(exec::decode_estimate(with("", ""), 2) == Estimate{1, 3, 1, 1, 61, 61});

  const std::vector<std::pair<std::string, std::string>> garbage = {
    {"", "no response on stdout"},
    {"Estimate: 3 mounts", "response is not JSON (error at byte 1): \"Estimate: 3 mounts\""},
    {R"({"version": 2, "estimate": {"items": NaN}})", "response is not JSON"},
    {R"({"version": 2, "estimate": {"items": 1e999}})",
     "response is not usable JSON: number overflow parsing '1e999'"},
    {"[2, {}]", "response is not a JSON object: \"[2, {}]\""},
    {R"({"estimate": null})", "response has no \"version\""},
    {R"({"version": 1, "objects": []})", "response has protocol version 1, expected 2"},
    {R"({"version": "2", "estimate": null})", "response has protocol version \"2\", expected 2"},
    {R"({"version": 2, "objects": []})", "response has no \"estimate\""},
    {R"({"version": 2, "estimate": [1, 3, 1, 1, 61, 61]})",
     "response's \"estimate\" is neither null nor an object: [1,3,1,1,61,61]"},
    {R"({"version": 2, "estimate": "unknown"})",
     "response's \"estimate\" is neither null nor an object: \"unknown\""},
    {R"({"version": 2, "estimate": {"estimate": {"items": 1}}})",
     "response's estimate has no \"items\""},
    {R"({"version": 2, "estimate": {"items": 1, "bytes": 3, "cartridges": 1, "mounts": 1}})",
     "response's estimate has no \"drive_seconds\""},
    {with("items", "-1"),
     "response's estimate gives items = -1, expected a whole number from 0 to 9007199254740992"},
    {with("bytes", "1.5"), "response's estimate gives bytes = 1.5, expected a whole number"},
    {with("bytes", "3.0"), "response's estimate gives bytes = 3.0, expected a whole number"},
    {with("cartridges", "\"1\""), "response's estimate gives cartridges = \"1\", expected"},
    {with("mounts", "true"), "response's estimate gives mounts = true, expected"},
    {with("mounts", "null"), "response's estimate gives mounts = null, expected"},
    {with("mounts", R"({"n": 1})"), "response's estimate gives mounts = {\"n\":1}, expected"},
    {with("bytes", "9007199254740993"),
     "response's estimate gives bytes = 9007199254740993, expected a whole number"},
    {with("bytes", "18446744073709551616"), "response's estimate gives bytes = "},
    {with("drive_seconds", "-0.5"),
     "response's estimate gives drive_seconds = -0.5, expected a number from 0 to "
     "9007199254740992"},
    {with("wall_seconds", "1e300"), "response's estimate gives wall_seconds = 1e+300, expected"},
    {with("wall_seconds", "[61]"), "response's estimate gives wall_seconds = [61], expected"},
    {with("items", "3"), "response's estimate counts 3 items of the 2 asked about"},
  };
  for (const auto& [text, message] : garbage) {
    INFO(text);
    CHECK_THROWS_AS(exec::decode_estimate(text, 2), InputError);
    CHECK_THROWS_WITH(exec::decode_estimate(text, 2), Contains(message));
  }
}

TEST_CASE("exec connector: the example program estimates, changing nothing",
          "[connector][exec][estimate]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto& ab = files.items;
  const auto state = dir.path() / "state";
  auto exec = make_exec(std::string(HLM_EXEC_EXAMPLE) + " --state-dir " + state.string());
  StderrCapture warnings(dir);

  // Its model (see the program): one cartridge and one mount per started
  // 12 TB, 60 s a mount, 1 s a file, 100 MB/s, two drives. The same file
  // twice counts once; a file that does not exist would not move.
  const std::vector<Item> batch = {ab[0],
                                   ab[1],
                                   ab[0],
                                   {"/a/c/gone", (dir.path() / "gone").string()}};
  const auto migrate = exec->estimate(Operation::migrate, batch);
  REQUIRE(migrate);
  CHECK(migrate->items == 2);
  CHECK(migrate->bytes == 6);
  CHECK(migrate->cartridges == 1);
  CHECK(migrate->mounts == 1);
  CHECK(migrate->drive_seconds == Approx(62 + 6e-8));
  CHECK(migrate->wall_seconds == Approx(62 + 6e-8));
  // Nothing is migrated: nothing to recall.
  CHECK(exec->estimate(Operation::recall, ab) == Estimate{});
  CHECK_FALSE(std::filesystem::exists(state));

  REQUIRE(states(exec->run(Operation::migrate, std::vector{ab[0]})) == std::vector{S::migrated});
  const auto saved = read_text(state / "state.json");
  CHECK(exec->estimate(Operation::migrate, ab) == Estimate{1, 3, 1, 1, 61.00000003, 61.00000003});
  CHECK(exec->estimate(Operation::recall, ab) == Estimate{1, 3, 1, 1, 61.00000003, 61.00000003});
  CHECK(read_text(state / "state.json") == saved);
  CHECK(states(exec->run(Operation::status, ab)) == std::vector{S::migrated, S::resident});
  CHECK(warnings.text().empty());
}

TEST_CASE("exec connector: the estimate request as the program sees it",
          "[connector][exec][estimate]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto request = dir.path() / "request.json";
  const auto program = script(dir,
                              "record",
                              "cat > \"$1\"; echo \"$HLM_CONNECTOR_VERSION\" > \"$1.env\"\n"
                              "printf '{\"version\": 2, \"estimate\": null}'\n");
  StderrCapture warnings(dir);
  // Names JSON cannot carry and repeated files are not sent.
  const std::vector<Item> items = {files.items[0],
                                   {"/a/c/\xff", files.items[1].file},
                                   files.items[1],
                                   files.items[0]};
  CHECK_FALSE(make_exec(program + " " + request.string())->estimate(Operation::recall, items));
  const auto sent = read_text(request);
  CHECK(sent == exec::encode_estimate_request(Operation::recall, files.items) + "\n");
  CHECK(read_text(request.string() + ".env") == "2\n");
  // "estimate": null is the program's answer, not a fault: no warning.
  CHECK(warnings.text().empty());
  CHECK_THROWS_AS(make_exec(program)->estimate(Operation::status, files.items), Error);
}

TEST_CASE("exec connector: a program that does not answer an estimate gives none, with a warning",
          "[connector][exec][estimate]")
{
  test::TempDir dir;
  const Files files(dir);
  const auto& items = files.items;
  const auto no_estimate = [&](const std::string& program, const std::string& timeout = "30") {
    StderrCapture warnings(dir);
    const auto estimate = make_exec(program, timeout)->estimate(Operation::migrate, items);
    CHECK_FALSE(estimate);
    return warnings.text();
  };
  const auto warning = [](const std::string& program, const std::string& cause) {
    return "warning: exec connector: " + program + ": no estimate: " + cause + "\n";
  };

  // A program of version 1 refuses version 2, as it must.
  const auto v1 = script(dir,
                         "v1",
                         "grep -q '\"version\":1,' || { echo 'unsupported protocol version' >&2; "
                         "exit 2; }\n"
                         "echo '{\"version\": 1, \"objects\": []}'\n");
  CHECK(no_estimate(v1)
        == warning(v1, "exited with status 2 (stderr: unsupported protocol version)"));
  // One that takes any request and answers as version 1.
  const auto sloppy = answering(dir, response({}));
  CHECK(no_estimate(sloppy) == warning(sloppy, "response has protocol version 1, expected 2"));
  const auto prose = answering(dir, "about an hour");
  CHECK(no_estimate(prose)
        == warning(prose, "response is not JSON (error at byte 1): \"about an hour\""));
  const auto negative = answering(dir,
                                  R"({"version": 2, "estimate": {"items": 2, "bytes": 6,)"
                                  R"( "cartridges": 1, "mounts": 1, "drive_seconds": -62,)"
                                  R"( "wall_seconds": 62}})");
  CHECK(no_estimate(negative)
        == warning(negative,
                   "response's estimate gives drive_seconds = -62, expected a number from 0 to "
                   "9007199254740992"));
  // A valid answer does not count with another exit status.
  const auto exit1 = answering(dir,
                               R"({"version": 2, "estimate": {"items": 2, "bytes": 6,)"
                               R"( "cartridges": 1, "mounts": 1, "drive_seconds": 62,)"
                               R"( "wall_seconds": 62}})",
                               1);
  CHECK(no_estimate(exit1) == warning(exit1, "exited with status 1"));
  const auto crash = script(dir, "crash", "kill -SEGV $$\n");
  CHECK(no_estimate(crash) == warning(crash, "killed by signal SEGV"));
  const auto hang = script(dir, "hang", "sleep 60\n");
  CHECK(no_estimate(hang, "1") == warning(hang, "timed out after 1 s"));
  const auto missing = (dir.path() / "no-such-program").string();
  CHECK(no_estimate(missing)
        == warning(missing, "cannot run \"" + missing + "\": No such file or directory"));
}
