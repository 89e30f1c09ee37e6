#include <hlm/protocol/request.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <sstream>

using namespace hlm;
using namespace hlm::protocol;

namespace {

Request
document(const std::string& text)
{
  std::istringstream in(text);
  return read_request_document(in);
}

Request
lines(const std::string& text)
{
  std::istringstream in(text);
  return read_object_lines(in, Operation::migrate);
}

} // namespace

TEST_CASE("device names that could escape the devices directory are refused", "[handler]")
{
  CHECK_NOTHROW(check_device_name("sdb1"));
  CHECK_NOTHROW(check_device_name("d\xc3\xa9v"));
  for (const char* bad : {"", ".", "..", "../../etc", "sdb1/../x", "a\nb", "/abs"}) {
    CHECK_THROWS_AS(check_device_name(bad), InputError);
  }
  CHECK_THROWS_AS(check_device_name(std::string(256, 'd')), InputError);
}

TEST_CASE("the seed's request document", "[handler]")
{
  const auto request = document(
    R"({"request": "migrate", "storage_policy_index": 1, "swift_dir": "/etc/swift",
        "future": {"nested": [1, {"x": null}]},
        "objects": [{"object": "/a/c/o1", "device": "sdb1"},
                    {"object": "/a/c/o/2", "device": "sdb2", "extra": [true]},
                    {"object": "/a/c/o3", "device": "sdb1"},
                    {"object": "/a/c/o4"}]})");
  CHECK(request.operation == Operation::migrate);
  CHECK(request.storage_policy_index == 1);
  CHECK(request.swift_dir == "/etc/swift");
  REQUIRE(request.objects.size() == 4);
  CHECK(request.devices == std::vector<std::string>{"sdb1", "sdb2"});
  CHECK(request.objects[1].path == "/a/c/o/2");
  CHECK(request.objects[1].device == 1);
  CHECK(request.objects[2].device == 0);
  CHECK(request.objects[3].device == Request::k_any_device);
}

TEST_CASE("bad request documents name what is wrong", "[handler]")
{
  const auto fails_with = [](const std::string& text, const std::string& what) {
    INFO(text);
    CHECK_THROWS_AS(document(text), InputError);
    CHECK_THROWS_WITH(document(text), Catch::Contains(what));
  };
  fails_with("", "malformed JSON at byte");
  fails_with(R"({"request": "status", "objects": [{"object": "/a/c/o", "dev)", "malformed JSON");
  fails_with(R"({"request": "status", "objects": []} trailing)", "malformed JSON");
  fails_with(R"([1, 2])", "not a JSON object");
  fails_with(R"("status")", "not a JSON object");
  fails_with(R"({"objects": []})", "missing \"request\"");
  fails_with(R"({"request": "status"})", "missing \"objects\"");
  fails_with(R"({"request": "delete", "objects": []})", "\"request\" must be");
  fails_with(R"({"request": 1, "objects": []})", "\"request\" must be");
  fails_with(R"({"request": "status", "objects": {}})", "\"objects\" must be a list");
  fails_with(R"({"request": "status", "objects": "x"})", "\"objects\" must be a list");
  fails_with(R"({"request": "status", "objects": [1]})", "objects[0] is not an object");
  fails_with(R"({"request": "status", "objects": [[]]})", "objects[0] is not an object");
  fails_with(R"({"request": "status", "objects": [{"device": "sdb1"}]})",
             "objects[0] has no \"object\"");
  fails_with(R"({"request": "status", "objects": [{"object": 5}]})",
             "objects[0].object must be a string");
  fails_with(R"({"request": "status", "objects": [{"object": "/a/c/o", "device": "../../etc"}]})",
             "invalid device name \"../../etc\"");
  fails_with(R"({"request": "status", "objects": [{"object": "/a/c/o"}, {"object": "/a/c"}]})",
             "objects[1]: object path \"/a/c\"");
  fails_with(R"({"request": "status", "storage_policy_index": -1, "objects": []})", "non-negative");
  for (const char* bad :
       {R"("")", R"("-1")", R"("1.5")", R"(" 1")", R"("zero")", R"("99999999999")"}) {
    fails_with(std::string(R"({"request": "status", "storage_policy_index": )") + bad
                 + R"(, "objects": []})",
               "non-negative");
  }
  fails_with(R"({"request": "status", "objects": [], "objects": []})", "twice");
  fails_with(R"({"request": "status", "objects": [{"object": "/a/c/\u0000"}]})", "NUL");
}

TEST_CASE("object lines", "[handler]")
{
  const auto request = lines("/a/c/o1\r\n\n  \na/c/dir/o2\n/a/c/o 3 \n");
  CHECK(request.operation == Operation::migrate);
  REQUIRE(request.objects.size() == 3);
  CHECK(request.objects[1].path == "/a/c/dir/o2");
  CHECK(request.objects[2].path == "/a/c/o 3 ");
  CHECK_THROWS_WITH(lines("/a/c/o\n/a/c\n"), Catch::Contains("line 2"));
  CHECK_THROWS_WITH(lines("/a/c/\xff\n"), Catch::Contains("UTF-8"));
}

TEST_CASE("handler request: SwiftHLM's dispatcher sends the policy index as a string", "[handler]")
{
  // swifthlm/middleware.py takes it from the container info: "0", "1", ...
  std::istringstream in(
    R"({"request": "migrate", "objects": [{"object": "/AUTH_test/cont3/obj00", "device": "sdb2"}],)"
    R"( "storage_policy_index": "1", "swift_dir": "/etc/swift"})");
  const auto request = read_request_document(in);
  CHECK(request.storage_policy_index == 1);
  CHECK(request.objects.size() == 1);
}
