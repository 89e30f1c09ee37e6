#include "../support/temp_dir.hpp"

#include <hlm/ctl/target_list.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sstream>

using namespace hlm;
using hlm::ctl::TargetList;
using hlm::ctl::TargetOrigin;

namespace {

queue::Target
as_is(queue::Target target)
{
  return target;
}

struct Listed
{
  std::vector<std::pair<queue::Target, std::string>> targets; // with to_string(origin)
  std::uint64_t duplicates = 0;
};

Listed
list_all(TargetList& list)
{
  Listed listed;
  listed.duplicates = list.for_each([&](const queue::Target& t, const TargetOrigin& origin) {
    listed.targets.emplace_back(t, ctl::to_string(origin));
  });
  return listed;
}

std::string
error_of(const std::vector<std::string>& arguments,
         const std::vector<std::string>& files,
         const std::string& input = {})
{
  std::istringstream in(input);
  try {
    TargetList list;
    list.read(arguments, files, in, as_is);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("target list: arguments and each list's lines, sorted, with where they were given",
          "[ctl]")
{
  test::TempDir dir;
  const auto list = dir.write("list",
                              "# a comment\n\n  \t\nAUTH_x/c2/o 1\r\n   # indented comment\nc3\n");
  std::istringstream in("AUTH_y/c4\n");
  TargetList targets;
  targets.read({"c1", "AUTH_test/c/dir/o"},
               {list.string(), "-"},
               in,
               [](queue::Target t) { // the caller's account, as Context fills it in
                 if (t.account.empty()) {
                   t.account = "AUTH_me";
                 }
                 return t;
               });
  CHECK(targets.targets_read() == 5);
  CHECK(targets.bad_lines() == 0);
  const auto listed = list_all(targets);
  using P = std::pair<queue::Target, std::string>;
  CHECK(listed.targets
        == std::vector<P>{P{{"AUTH_me", "c1", ""}, "argument"},
                          P{{"AUTH_me", "c3", ""}, list.string() + " line 6"},
                          P{{"AUTH_test", "c", "dir/o"}, "argument"},
                          P{{"AUTH_x", "c2", "o 1"}, list.string() + " line 4"},
                          P{{"AUTH_y", "c4", ""}, "standard input line 1"}});
  CHECK(listed.duplicates == 0);
}

TEST_CASE("target list: a container before its objects, objects in byte order", "[ctl]")
{
  std::istringstream in("a/c/\xc3\xa9\na/c/z\na/c/Z\na/c\na/c/z/\na/b/o\na/c/z 2\n");
  TargetList list;
  list.read({}, {"-"}, in, as_is);
  std::vector<std::string> names;
  list.for_each([&](const queue::Target& t, const TargetOrigin&) {
    names.push_back(t.container + "|" + t.object);
  });
  CHECK(names
        == std::vector<std::string>{"b|o", "c|", "c|Z", "c|z", "c|z 2", "c|z/", "c|\xc3\xa9"});
}

TEST_CASE("target list: duplicates are queued once, from where they were first given", "[ctl]")
{
  test::TempDir dir;
  const auto one = dir.write("one", "a/c/o\na/c/p\na/c/o\r\n");
  const auto two = dir.write("two", "a/c/p\n/a/c/o\n");
  std::istringstream in;
  TargetList list;
  list.read({"a/c/p"}, {one.string(), two.string()}, in, as_is);
  const auto listed = list_all(list);
  using P = std::pair<queue::Target, std::string>;
  CHECK(listed.targets
        == std::vector<P>{P{{"a", "c", "o"}, one.string() + " line 1"},
                          P{{"a", "c", "p"}, "argument"}});
  CHECK(listed.duplicates == 4);
  CHECK(list.bad_lines() == 0);
}

TEST_CASE("target list: bad lines are counted, the first 20 kept, the good ones read", "[ctl]")
{
  test::TempDir dir;
  std::string text = "a/c/good1\n";
  for (int i = 0; i < 10000; ++i) {
    text += fmt::format("bad{}//\n", i);
  }
  text += "a/c/good2\r\n";
  text += std::string("a/c/nul\0byte\n", 13);
  const auto bad = dir.write("bad", text);
  std::istringstream in("a/\n");
  TargetList list;
  list.read({}, {bad.string(), "-"}, in, as_is);
  CHECK(list.targets_read() == 2);
  CHECK(list.bad_lines() == 10002);
  REQUIRE(list.shown_bad_lines().size() == 20);
  CHECK(list.shown_bad_lines().front().list == bad.string());
  CHECK(list.shown_bad_lines().front().line == 2);
  CHECK_THAT(list.shown_bad_lines().front().reason, Catch::Contains("bad0//"));
  CHECK(list.shown_bad_lines().back().line == 21);

  std::ostringstream err;
  list.report_bad_lines(err);
  const auto report = err.str();
  CHECK(std::count(report.begin(), report.end(), '\n') == 22);
  CHECK_THAT(report, Catch::StartsWith("hlmctl: error: " + bad.string() + " line 2: "));
  CHECK_THAT(report,
             Catch::Contains(bad.string() + " line 21: ") && !Catch::Contains(" line 22: "));
  CHECK_THAT(report,
             Catch::EndsWith("hlmctl: error: 10001 bad lines in " + bad.string()
                             + ", not queued; first 20 shown\n"
                               "hlmctl: error: 1 bad line in standard input, not queued; none "
                               "shown\n"));
  const auto listed = list_all(list);
  REQUIRE(listed.targets.size() == 2);
  CHECK(listed.targets[0].first.object == "good1");
  CHECK(listed.targets[1].first.object == "good2");
  CHECK(listed.targets[1].second == bad.string() + " line 10002");
}

TEST_CASE("target list: a few bad lines, all shown, no 'first N shown'", "[ctl]")
{
  std::istringstream in("a/c/o\nx//\n");
  TargetList list;
  list.read({}, {"-"}, in, as_is);
  std::ostringstream err;
  list.report_bad_lines(err);
  CHECK_THAT(err.str(),
             Catch::StartsWith("hlmctl: error: standard input line 2: ")
               && Catch::EndsWith("\nhlmctl: error: 1 bad line in standard input, not queued\n"));
}

TEST_CASE("target list: a long list is sorted in runs on disk", "[ctl]")
{
  test::TempDir dir;
  std::string text;
  for (int i = 2000; i-- > 0;) {
    text += fmt::format("AUTH_a/c{}/o{:04d}\n", i % 3, i);
  }
  text += "AUTH_a/c1/o0001\n";
  const auto big = dir.write("big", text);
  const auto temp = dir.path() / "tmp";
  std::filesystem::create_directory(temp);
  std::istringstream in;
  TargetList list({4096, temp.string(), {}});
  list.read({}, {big.string()}, in, as_is);
  std::vector<std::string> names;
  const auto duplicates = list.for_each([&](const queue::Target& t, const TargetOrigin& origin) {
    names.push_back(t.container + "/" + t.object);
    if (t.object == "o0001") {
      CHECK(origin.line == 1999);
    }
  });
  CHECK(duplicates == 1);
  REQUIRE(names.size() == 2000);
  CHECK(std::is_sorted(names.begin(), names.end()));
  CHECK(names.front() == "c0/o0000");
  CHECK(names.back() == "c2/o1997");
  CHECK(std::filesystem::is_empty(temp));
}

TEST_CASE("target list: what stops the command before anything is queued", "[ctl]")
{
  test::TempDir dir;
  CHECK(error_of({}, {}) == "no target given (TARGET arguments or -f FILE)");
  CHECK(error_of({}, {"-"}, "# only a comment\n")
        == "no target given (TARGET arguments or -f FILE)");
  // A bad line is not: it is reported and skipped.
  CHECK(error_of({}, {"-"}, "a//o\n") == "no error");
  // A bad argument is a usage error.
  CHECK_THAT(error_of({"a//o"}, {}), Catch::Contains("a//o") && !Catch::Contains("line"));

  const auto missing = (dir.path() / "missing").string();
  CHECK(error_of({}, {missing})
        == "cannot read target list \"" + missing + "\": No such file or directory");
  CHECK(error_of({}, {dir.path().string()})
        == "cannot read target list \"" + dir.path().string() + "\": it is a directory");
}
