#include "../support/temp_dir.hpp"

#include <hlm/ctl/target_list.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using namespace hlm;
using hlm::ctl::read_targets;

namespace {

std::string
error_of(const std::vector<std::string>& arguments,
         const std::vector<std::string>& files,
         const std::string& input = {})
{
  std::istringstream in(input);
  try {
    read_targets(arguments, files, in);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("target list: arguments, then each list's lines", "[ctl]")
{
  test::TempDir dir;
  const auto list = dir.write("list",
                              "# a comment\n\n  \t\nAUTH_x/c2/o 1\r\n   # indented comment\nc3\n");
  std::istringstream in("AUTH_y/c4\n");
  const auto targets = read_targets({"c1", "AUTH_test/c/dir/o"}, {list.string(), "-"}, in);
  CHECK(targets
        == std::vector<queue::Target>{{"", "c1", ""},
                                      {"AUTH_test", "c", "dir/o"},
                                      {"AUTH_x", "c2", "o 1"},
                                      {"", "c3", ""},
                                      {"AUTH_y", "c4", ""}});
}

TEST_CASE("target list: what stops the command before anything is queued", "[ctl]")
{
  test::TempDir dir;
  CHECK(error_of({}, {}) == "no target given (TARGET arguments or -f FILE)");
  CHECK(error_of({}, {"-"}, "# only a comment\n")
        == "no target given (TARGET arguments or -f FILE)");

  const auto bad = dir.write("bad", "c1\n\nAUTH_x//o\n");
  CHECK_THAT(error_of({"c0"}, {bad.string()}),
             Catch::StartsWith(bad.string() + " line 3: ") && Catch::Contains("AUTH_x//o"));
  CHECK_THAT(error_of({}, {"-"}, "a/\n"), Catch::StartsWith("standard input line 1: "));
  CHECK_THAT(error_of({"a//o"}, {}), !Catch::Contains("line"));

  const auto missing = (dir.path() / "missing").string();
  CHECK(error_of({}, {missing})
        == "cannot read target list \"" + missing + "\": No such file or directory");
  CHECK(error_of({}, {dir.path().string()})
        == "cannot read target list \"" + dir.path().string() + "\": it is a directory");
}
