#include <hlm/core/failure.hpp>
#include <hlm/core/operation.hpp>
#include <hlm/core/swift_name.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm;

TEST_CASE("split_object_path", "[core]")
{
  const auto name = split_object_path("/AUTH_test/c/dir/sub/o b%20\xc3\xa9");
  CHECK(name.account == "AUTH_test");
  CHECK(name.container == "c");
  CHECK(name.object == "dir/sub/o b%20\xc3\xa9");
  for (const char* bad : {"", "a/c/o", "/a", "/a/c", "/a/c/", "//c/o", "/a//o", "/a/c/\xff"}) {
    CHECK_THROWS_AS(split_object_path(bad), InputError);
  }
  CHECK_THROWS_WITH(split_object_path(std::string_view("/a/c/o\0x", 8)), Catch::Contains("NUL"));
}

TEST_CASE("parse_swift_name and format_path", "[core]")
{
  CHECK(parse_swift_name("AUTH_a") == SwiftName{"AUTH_a", "", ""});
  CHECK(parse_swift_name("/AUTH_a/c") == SwiftName{"AUTH_a", "c", ""});
  CHECK(parse_swift_name("AUTH_a/c/d/o") == SwiftName{"AUTH_a", "c", "d/o"});
  for (const char* bad : {"", "/", "a//o", "a/c/", "/a/\xff"}) {
    CHECK_THROWS_AS(parse_swift_name(bad), InputError);
  }
  CHECK(format_path({"a", "", ""}) == "/a");
  CHECK(format_path({"a", "c", ""}) == "/a/c");
  CHECK(format_path({"a", "c", "d/o"}) == "/a/c/d/o");
  CHECK(format_path(split_object_path("/a/c/d/o")) == "/a/c/d/o");
}

TEST_CASE("operations and states round-trip through their names", "[core]")
{
  for (const auto operation : {Operation::migrate, Operation::recall, Operation::status}) {
    CHECK(parse_operation(to_string(operation)) == operation);
  }
  for (const auto state : {ObjectState::resident,
                           ObjectState::premigrated,
                           ObjectState::migrated,
                           ObjectState::unknown}) {
    CHECK(parse_object_state(to_string(state)) == state);
  }
  CHECK_FALSE(parse_operation("Migrate"));
  CHECK_FALSE(parse_operation("delete"));
  CHECK_FALSE(parse_object_state(""));
  CHECK_FALSE(parse_object_state("Resident"));
}

TEST_CASE("failure kinds: names and default transience", "[core]")
{
  for (const auto kind : {FailureKind::unreachable,
                          FailureKind::node,
                          FailureKind::backend,
                          FailureKind::missing,
                          FailureKind::deleted,
                          FailureKind::rejected}) {
    CHECK(parse_failure_kind(to_string(kind)) == kind);
  }
  CHECK_FALSE(parse_failure_kind("timeout"));
  CHECK(make_failure(FailureKind::unreachable, "x").transient);
  CHECK(make_failure(FailureKind::backend, "x").transient);
  CHECK(make_failure(FailureKind::missing, "object is not on this device").transient);
  CHECK_FALSE(make_failure(FailureKind::deleted, "object is deleted").transient);
  CHECK_FALSE(make_failure(FailureKind::rejected, "x").transient);
  CHECK(make_failure(FailureKind::missing, "m").message == "m");
}
