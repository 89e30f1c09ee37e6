#include <hlm/ctl/error_lines.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using hlm::ctl::ErrorLines;

TEST_CASE("error lines: each text once, the repeats counted at the end", "[ctl]")
{
  std::ostringstream out;
  {
    ErrorLines lines(out);
    lines.add("/a/c/o1", "node 10.0.0.1: connection refused");
    lines.add("/a/c/o2", "node 10.0.0.1: connection refused");
    lines.add("/a/c/o3", "node 10.0.0.2: timed out");
    lines.add("/a/c/o4", "node 10.0.0.1: connection refused");
    lines.add("/a/c/o5", "disk full");
    lines.add("/a/c/o6", "disk full");
    CHECK(out.str()
          == "hlmctl: error: /a/c/o1: node 10.0.0.1: connection refused\n"
             "hlmctl: error: /a/c/o3: node 10.0.0.2: timed out\n"
             "hlmctl: error: /a/c/o5: disk full\n");
    out.str("");
  }
  // In text order; a text seen once has no count line.
  CHECK(out.str()
        == "hlmctl: error: disk full (also for 1 more replica)\n"
           "hlmctl: error: node 10.0.0.1: connection refused (also for 2 more replicas)\n");
}

TEST_CASE("error lines: finish() counts once, the destructor adds nothing", "[ctl]")
{
  std::ostringstream out;
  {
    ErrorLines lines(out);
    lines.add("/a/c/o1", "e");
    lines.add("/a/c/o2", "e");
    lines.finish();
    CHECK(out.str() == "hlmctl: error: /a/c/o1: e\nhlmctl: error: e (also for 1 more replica)\n");
    lines.finish();
  }
  CHECK(out.str() == "hlmctl: error: /a/c/o1: e\nhlmctl: error: e (also for 1 more replica)\n");
}

TEST_CASE("error lines: nothing to say, nothing said", "[ctl]")
{
  std::ostringstream out;
  {
    ErrorLines lines(out);
  }
  CHECK(out.str().empty());
}
