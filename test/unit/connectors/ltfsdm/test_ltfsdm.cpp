#include "../../support/outcomes.hpp"
#include "../../support/temp_dir.hpp"

#include <hlm/util/error.hpp>

#include <connectors/builtin.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

// These tests run the connector against test/ltfsdm/ltfsdm, a stand-in
// that reproduces the real ltfsdm's argv parsing, messages, exit statuses
// and `info files` output (see its header) and records what it was sent.

using namespace hlm;
using namespace hlm::connector;
using Catch::Contains;
using hlm::test::states;
using S = ObjectState;
namespace fs = std::filesystem;

namespace {

const std::string k_standin = HLM_LTFSDM_STANDIN;

std::string
read_text(const fs::path& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A temp dir with the stand-in's state and the connector's list directory;
// the stand-in's environment variables are set while it lives.
class Standin
{
public:
  Standin()
  {
    fs::create_directories(state());
    ::setenv("LTFSDM_STANDIN_STATE", state().c_str(), 1);
  }
  ~Standin()
  {
    for (const auto* name : {"LTFSDM_STANDIN_STATE",
                             "LTFSDM_STANDIN_FAIL",
                             "LTFSDM_STANDIN_FAIL_FILES",
                             "LTFSDM_STANDIN_SLEEP"}) {
      ::unsetenv(name);
    }
  }
  Standin(const Standin&) = delete;
  Standin& operator=(const Standin&) = delete;

  fs::path
  state() const
  {
    return m_dir.path() / "state";
  }

  fs::path
  tmp() const
  {
    return m_dir.path() / "tmp";
  }

  // A data file `name` under srv/.
  Item
  file(const std::string& name) const
  {
    return {"/a/c/" + name, m_dir.write("srv/" + name, "data of " + name).string()};
  }

  std::unique_ptr<Connector>
  connector(std::vector<std::pair<std::string, std::string>> extra = {}) const
  {
    std::vector<std::pair<std::string, std::string>> values = {
      {"ltfsdm_path", k_standin},
      {"tape_storage_pool", "pool1"},
      {"connector_tmp_dir", tmp().string()},
      {"timeout", "30"}};
    for (auto& [key, value] : extra) {
      bool replaced = false;
      for (auto& entry : values) {
        if (entry.first == key) {
          entry.second = value;
          replaced = true;
        }
      }
      if (!replaced) {
        values.emplace_back(key, value);
      }
    }
    return create_connector("ltfsdm", Settings("[hlm:ltfsdm]", std::move(values)));
  }

  // The arguments of the last `command` call (after the program name).
  std::vector<std::string>
  last_argv(const std::string& command) const
  {
    const auto text = read_text(state() / ("last-" + command + ".argv"));
    std::vector<std::string> args;
    std::size_t start = 0;
    while (true) {
      const auto end = text.find('\0', start);
      args.push_back(text.substr(start, end - start));
      if (end == std::string::npos) {
        return args;
      }
      start = end + 1;
    }
  }

  std::string
  last_list(const std::string& command) const
  {
    return read_text(state() / ("last-" + command + ".list"));
  }

  std::string
  calls() const
  {
    return read_text(state() / "calls");
  }

  // Nothing left in the list directory.
  bool
  no_lists_left() const
  {
    return !fs::exists(tmp()) || fs::is_empty(tmp());
  }

  const test::TempDir&
  dir() const
  {
    return m_dir;
  }

private:
  test::TempDir m_dir;
};

} // namespace

TEST_CASE("ltfsdm connector: round trip through migrate, info files and recall",
          "[connector][ltfsdm]")
{
  Standin standin;
  const std::vector<Item> ab = {standin.file("a.data"), standin.file("b.data")};
  const std::vector<Item> a = {ab[0]};
  auto ltfsdm = standin.connector({{"tape_storage_pool", "pool1, pool2"}});

  CHECK(states(ltfsdm->run(Operation::status, ab)) == std::vector{S::resident, S::resident});
  CHECK(standin.last_list("info-files") == ab[0].file + "\n" + ab[1].file + "\n");
  CHECK(states(ltfsdm->run(Operation::migrate, a)) == std::vector{S::migrated});
  const auto list = standin.last_argv("migrate").at(2);
  CHECK(standin.last_argv("migrate")
        == std::vector<std::string>{"migrate", "-f", list, "-P", "pool1,pool2"});
  CHECK(fs::path(list).parent_path() == standin.tmp());
  CHECK(standin.last_list("migrate") == ab[0].file + "\n");
  CHECK(standin.last_argv("info-files") == std::vector<std::string>{"info", "files", "-f", list});

  CHECK(states(ltfsdm->run(Operation::status, ab)) == std::vector{S::migrated, S::resident});
  CHECK(states(ltfsdm->run(Operation::recall, ab)) == std::vector{S::premigrated, S::resident});
  CHECK(standin.last_argv("recall").at(0) == "recall");
  CHECK(standin.last_argv("recall").size() == 3);
  CHECK(states(ltfsdm->run(Operation::migrate, ab)) == std::vector{S::migrated, S::migrated});
  CHECK(
    standin.calls()
    == "info-files\nmigrate\ninfo-files\ninfo-files\nrecall\ninfo-files\nmigrate\ninfo-files\n");
  // The private lists are gone, and were private.
  CHECK(standin.no_lists_left());
  struct stat info
  {};
  REQUIRE(::stat(standin.tmp().c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);
  CHECK(ltfsdm->run(Operation::status, {}).empty());
}

TEST_CASE("ltfsdm connector: premigrate and recall-to-resident modes", "[connector][ltfsdm]")
{
  Standin standin;
  const std::vector<Item> a = {standin.file("a.data")};
  auto ltfsdm = standin.connector({{"migrate_mode", "premigrate"}, {"recall_mode", "resident"}});
  CHECK(states(ltfsdm->run(Operation::migrate, a)) == std::vector{S::premigrated});
  CHECK(standin.last_argv("migrate").at(1) == "-p");
  CHECK(states(standin.connector()->run(Operation::migrate, a)) == std::vector{S::migrated});
  // A migrated file is further than premigrate asks: fine.
  CHECK(states(ltfsdm->run(Operation::migrate, a)) == std::vector{S::migrated});
  CHECK(states(ltfsdm->run(Operation::recall, a)) == std::vector{S::resident});
  CHECK(standin.last_argv("recall").at(1) == "-r");

  // Recalling to premigrated leaves a resident file resident: fine.
  CHECK(states(standin.connector()->run(Operation::recall, a)) == std::vector{S::resident});
}

TEST_CASE("ltfsdm connector: a path with a newline fails alone", "[connector][ltfsdm]")
{
  Standin standin;
  const std::vector<Item> items = {standin.file("two\nlines.data"),
                                   standin.file("fine.data"),
                                   {"/a/c/gone", (standin.dir().path() / "gone.data").string()}};
  const auto outcomes = standin.connector()->run(Operation::migrate, items);
  CHECK(outcomes[0].state == S::unknown);
  CHECK(
    outcomes[0].error()
    == "ltfsdm connector: the file path contains a newline, which an ltfsdm file list cannot hold");
  CHECK(outcomes[1].ok());
  CHECK(outcomes[1].state == S::migrated);
  CHECK(outcomes[2].state == S::unknown);
  CHECK(outcomes[2].error()
        == "ltfsdm connector: cannot resolve \"" + items[2].file + "\": No such file or directory");
  CHECK(standin.last_list("migrate") == items[1].file + "\n");

  // A symbolic link hides the newline from the list, not from ltfsdm's output.
  const auto real = standin.file("dir\nm 1 8 T  /forged/x.data");
  const auto link = standin.dir().path() / "link.data";
  fs::create_symlink(real.file, link);
  const auto linked = standin.connector()->run(Operation::status,
                                               std::vector<Item>{{"/a/c/l", link.string()}});
  CHECK(linked[0].state == S::unknown);
  CHECK_THAT(*linked[0].error(),
             Contains("real path") && Contains("\\nm 1 8 T  /forged/x.data")
               && Contains("contains a newline, which ltfsdm's output cannot carry"));
}

TEST_CASE("ltfsdm connector: hostile file names reach ltfsdm byte for byte", "[connector][ltfsdm]")
{
  Standin standin;
  const auto canary = standin.dir().path() / "pwned";
  const std::vector<std::string> names = {"with space.data",
                                          "quote'\"s.data",
                                          "$(touch " + canary.string() + ").data",
                                          "-leading-dash.data",
                                          "`touch " + canary.string() + "`;|&>x*.data",
                                          "tab\there  two.data"};
  std::vector<Item> items;
  std::string expected_list;
  for (const auto& name : names) {
    items.push_back(standin.file(name));
    expected_list += items.back().file + "\n";
  }
  // The list directory's name is hostile too.
  const auto tmp = standin.dir().path() / "tmp $(touch pwned) 'q'";
  auto ltfsdm = standin.connector({{"connector_tmp_dir", tmp.string()}});
  CHECK(states(ltfsdm->run(Operation::migrate, items))
        == std::vector<S>(names.size(), S::migrated));
  CHECK(standin.last_list("migrate") == expected_list);
  const auto argv = standin.last_argv("migrate");
  CHECK(argv.at(2).starts_with(tmp.string() + "/"));
  CHECK(states(ltfsdm->run(Operation::status, items)) == std::vector<S>(names.size(), S::migrated));
  CHECK_FALSE(fs::exists(canary));
  CHECK_FALSE(fs::exists("pwned"));
  CHECK(fs::is_empty(tmp));
}

TEST_CASE("ltfsdm connector: when ltfsdm fails, objects carry its words", "[connector][ltfsdm]")
{
  Standin standin;
  const std::vector<Item> ab = {standin.file("a.data"), standin.file("b.data")};

  SECTION("it cannot run at all (exit 2, stderr)")
  {
    ::setenv("LTFSDM_STANDIN_FAIL", "all", 1);
    for (const auto& outcome : standin.connector()->run(Operation::migrate, ab)) {
      CHECK(outcome.state == S::unknown);
      CHECK(outcome.error()
            == "ltfsdm connector: ltfsdm info files does not list the file (ltfsdm info files "
               "exited with status 2: Unable to create temporary directory /var/run/ltfsdm) "
               "(ltfsdm migrate exited with status 2: Unable to create temporary directory "
               "/var/run/ltfsdm)");
    }
  }
  SECTION("its server is down (exit 0, nothing done)")
  {
    ::setenv("LTFSDM_STANDIN_FAIL", "noserver", 1);
    for (const auto& outcome : standin.connector()->run(Operation::migrate, ab)) {
      CHECK(outcome.state == S::resident);
      CHECK(outcome.error()
            == "ltfsdm connector: ltfsdm migrate left the file resident (ltfsdm migrate said: "
               "LTFSDMC0026E(0172): Unable to connect to the LTFS Data Management server.)");
    }
    CHECK(states(standin.connector()->run(Operation::status, ab))
          == std::vector{S::resident, S::resident});
  }
  SECTION("the pool does not exist")
  {
    const auto outcomes =
      standin.connector({{"tape_storage_pool", "nopool"}})->run(Operation::migrate, ab);
    CHECK(outcomes[0].state == S::resident);
    CHECK(outcomes[0].error()
          == "ltfsdm connector: ltfsdm migrate left the file resident (ltfsdm migrate said: "
             "LTFSDMS0064E(0223): One of the specified pools does not exist. / LTFSDMC0023E(0274): "
             "Error while performing a migration operatrion.)");
  }
  SECTION("one file fails on the server (exit 1)")
  {
    const auto failing = standin.dir().write("fail-files", ab[1].file + "\n");
    ::setenv("LTFSDM_STANDIN_FAIL_FILES", failing.c_str(), 1);
    const auto outcomes = standin.connector()->run(Operation::migrate, ab);
    CHECK(outcomes[0].ok());
    CHECK(outcomes[0].state == S::migrated);
    CHECK(outcomes[1].state == S::resident);
    CHECK(
      outcomes[1].error()
      == "ltfsdm connector: ltfsdm migrate left the file resident (ltfsdm migrate exited with "
         "status 1: [00:00:00]            0            0            0            1            1)");
  }
  SECTION("it hangs")
  {
    ::setenv("LTFSDM_STANDIN_SLEEP", "60", 1);
    const auto start = std::chrono::steady_clock::now();
    const auto outcomes = standin.connector({{"timeout", "1"}})->run(Operation::recall, ab);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(50));
    for (const auto& outcome : outcomes) {
      CHECK(outcome.state == S::unknown);
      CHECK(
        outcome.error()
        == "ltfsdm connector: ltfsdm info files does not list the file (ltfsdm info files timed "
           "out after 1 s) (ltfsdm recall timed out after 1 s)");
    }
  }
  CHECK(standin.no_lists_left());
}

TEST_CASE("ltfsdm connector: a missing ltfsdm fails every object", "[connector][ltfsdm]")
{
  Standin standin;
  const std::vector<Item> ab = {standin.file("a.data"), standin.file("b.data")};
  const auto missing = (standin.dir().path() / "bin" / "ltfsdm").string();
  auto ltfsdm = standin.connector({{"ltfsdm_path", missing}});
  for (const auto operation : {Operation::migrate, Operation::recall, Operation::status}) {
    for (const auto& outcome : ltfsdm->run(operation, ab)) {
      CHECK(outcome.state == S::unknown);
      CHECK(outcome.error()
            == "ltfsdm connector: cannot run \"" + missing + "\": No such file or directory");
    }
  }
  CHECK(standin.no_lists_left());
}

TEST_CASE("ltfsdm connector: a list directory others could write to is refused",
          "[connector][ltfsdm]")
{
  Standin standin;
  const std::vector<Item> a = {standin.file("a.data")};
  fs::create_directories(standin.tmp());
  fs::permissions(standin.tmp(), fs::perms::all);
  CHECK_THROWS_WITH(standin.connector()->run(Operation::migrate, a),
                    "ltfsdm connector: refusing connector_tmp_dir \"" + standin.tmp().string()
                      + "\": others may write to it");
  // Sticky, like /tmp: fine.
  fs::permissions(standin.tmp(), fs::perms::all | fs::perms::sticky_bit);
  CHECK(states(standin.connector()->run(Operation::status, a)) == std::vector{S::resident});

  const auto link = standin.dir().path() / "link";
  fs::create_directory_symlink(standin.state(), link);
  CHECK_THROWS_WITH(
    standin.connector({{"connector_tmp_dir", link.string()}})->run(Operation::status, a),
    Contains("it is not a directory (or is a symbolic link)"));
}

TEST_CASE("ltfsdm connector: settings", "[connector][ltfsdm]")
{
  const auto make = [](std::vector<std::pair<std::string, std::string>> values) {
    return create_connector("ltfsdm", Settings("[hlm:ltfsdm]", std::move(values)));
  };
  CHECK(make({{"tape_storage_pool", "p1"}}));
  CHECK_THROWS_WITH(make({}), Contains("missing \"tape_storage_pool\" in [hlm:ltfsdm]"));
  CHECK_THROWS_WITH(
    make({{"tape_storage_pool", "a,b,c,d"}}),
    "tape_storage_pool = \"a,b,c,d\" in [hlm:ltfsdm]: expected 1 to 3 pool names, comma-separated");
  CHECK_THROWS_AS(make({{"tape_storage_pool", " , "}}), ConfigError);
  CHECK_THROWS_WITH(make({{"tape_storage_pool", "p"}, {"migrate_mode", "fast"}}),
                    "migrate_mode = \"fast\" in [hlm:ltfsdm]: expected migrate or premigrate");
  CHECK_THROWS_WITH(make({{"tape_storage_pool", "p"}, {"recall_mode", "migrated"}}),
                    "recall_mode = \"migrated\" in [hlm:ltfsdm]: expected premigrated or resident");
  CHECK_THROWS_WITH(make({{"tape_storage_pool", "p"}, {"connector_tmp_dir", "tmp"}}),
                    Contains("expected an absolute path"));
  CHECK_THROWS_AS(make({{"tape_storage_pool", "p"}, {"timeout", "0"}}), ConfigError);
  CHECK_THROWS_WITH(make({{"tape_storage_pool", "p"}, {"ltfsdm_pth", "/x"}}),
                    Contains("unknown key \"ltfsdm_pth\"")
                      && Contains("did you mean \"ltfsdm_path\""));
}

namespace {

// An ltfsdm wrapper in the test's directory: removes `doomed`, runs the
// stand-in, then exits with `status` (the stand-in's own when empty).
std::string
wrapper(const Standin& standin, const fs::path& doomed, const std::string& status = {})
{
  const auto path = standin.dir().write(
    "bin/ltfsdm-wrapper",
    "#!/bin/sh\nrm -f '" + doomed.string() + "'\n'" + k_standin + "' \"$@\"\n"
      + (status.empty() ? std::string() : "exit " + status + "\n"));
  fs::permissions(path, fs::perms::owner_all);
  return path.string();
}

} // namespace

TEST_CASE("ltfsdm connector: a file info files leaves out is not blamed on another's line",
          "[connector][ltfsdm]")
{
  // Found in review: the last stdout line, another file's state line, was
  // quoted as ltfsdm's words about the missing file.
  Standin standin;
  const std::vector<Item> ab = {standin.file("a.data"), standin.file("b.data")};
  // b is gone by the time ltfsdm looks: it is left out, and ltfsdm exits 0.
  auto outcomes =
    standin.connector({{"ltfsdm_path", wrapper(standin, ab[1].file)}})->run(Operation::status, ab);
  CHECK(outcomes[0].ok());
  CHECK(outcomes[0].state == S::resident);
  CHECK(outcomes[1].state == S::unknown);
  CHECK(outcomes[1].error().value_or("")
        == "ltfsdm connector: ltfsdm info files does not list the file");

  // A failed run is explained by its status, not by a file's line.
  standin.file("b.data");
  outcomes = standin.connector({{"ltfsdm_path", wrapper(standin, ab[1].file, "1")}})
               ->run(Operation::status, ab);
  CHECK(outcomes[1].error().value_or("")
        == "ltfsdm connector: ltfsdm info files does not list the file (ltfsdm info files exited "
           "with status 1)");
}

TEST_CASE("ltfsdm connector: a file named twice, by a link too, is listed once",
          "[connector][ltfsdm]")
{
  Standin standin;
  const auto a = standin.file("a.data");
  const auto link = standin.dir().path() / "link.data";
  fs::create_symlink(a.file, link);
  const std::vector<Item> items = {a, {"/a/c/link", link.string()}, a};
  CHECK(states(standin.connector()->run(Operation::migrate, items))
        == std::vector{S::migrated, S::migrated, S::migrated});
  CHECK(standin.last_list("migrate") == a.file + "\n");
  CHECK(standin.last_list("info-files") == a.file + "\n");
}
