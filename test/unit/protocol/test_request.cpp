#include <hlm/protocol/request.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
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

TEST_CASE("object lines as paths back to back", "[handler]")
{
  std::istringstream in("/a/c/o1\r\n\na/c/dir/o2\n/a/c/o 3 ");
  const auto paths = read_object_paths(in);
  REQUIRE(paths.size() == 3);
  CHECK(paths[0] == "/a/c/o1");
  CHECK(paths[1] == "/a/c/dir/o2");
  CHECK(paths[2] == "/a/c/o 3 ");
  std::istringstream empty("\n\n");
  CHECK(read_object_paths(empty).empty());
  std::istringstream bad("/a/c/o\n\n/a/c\n");
  CHECK_THROWS_WITH(read_object_paths(bad), Catch::Contains("line 3"));
}

TEST_CASE("object lines through a spool: the same paths in batches, in memory or in a file",
          "[handler]")
{
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 1000; ++i) {
    expected.push_back(fmt::format("/a/c/object {:04d}", i));
    // Every form read_object_paths takes: no leading '/', "\r\n", blank lines.
    text += (i % 3 == 0 ? expected.back().substr(1) : expected.back())
            + (i % 5 == 0 ? "\r\n\n" : "\n");
  }
  for (const std::size_t memory : {std::size_t{1} << 20, std::size_t{100}}) {
    INFO("memory " << memory);
    std::istringstream in(text);
    hlm::protocol::ObjectPathSpool spool(in, memory);
    CHECK(spool.size() == expected.size());
    CHECK(spool.spilled() == (memory == 100));
    std::vector<std::string> read;
    for (std::size_t batch : {7, 300, 1000}) {
      const auto& paths = spool.next_batch(batch);
      for (std::size_t i = 0; i < paths.size(); ++i) {
        read.emplace_back(paths[i]);
      }
    }
    CHECK(read == expected);
    CHECK(spool.next_batch(10).empty());
  }
  // A bad line anywhere is found before the first batch, as
  // read_object_paths finds it.
  std::istringstream bad(text + "/a/c\n");
  CHECK_THROWS_WITH(hlm::protocol::ObjectPathSpool(bad, 100), Catch::Contains("line 1201"));
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

TEST_CASE("request documents round trip through encode_request", "[protocol]")
{
  Request request;
  request.operation = Operation::recall;
  request.storage_policy_index = 2;
  request.swift_dir = "/etc/swift";
  request.devices = {"sdb1", "d\xc3\xa9v"};
  request.objects = {{"/a/c/o1", 0},
                     {"/a/c/dir/o 2", 1},
                     {"/a/c/o3", Request::k_any_device},
                     {"/AUTH_\xc3\xa9/c/\xe2\x98\x83", 0},
                     // What JSON escapes: the document stays one line.
                     {"/a/c/\"quoted\" back\\slash\nnew line\ttab\x01", 1}};
  const auto text = encode_request(request);
  CHECK(text.ends_with("}\n"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK_THAT(text, Catch::Contains(R"("version":1)"));

  const auto read = document(text);
  CHECK(read.operation == request.operation);
  CHECK(read.storage_policy_index == request.storage_policy_index);
  CHECK(read.swift_dir == request.swift_dir);
  CHECK(read.devices == request.devices);
  REQUIRE(read.objects.size() == request.objects.size());
  for (std::size_t i = 0; i < read.objects.size(); ++i) {
    CHECK(read.objects[i].path == request.objects[i].path);
    CHECK(read.objects[i].device == request.objects[i].device);
  }

  SECTION("without the optional keys")
  {
    Request bare;
    bare.operation = Operation::migrate;
    const auto read_bare = document(encode_request(bare));
    CHECK(read_bare.operation == Operation::migrate);
    CHECK(!read_bare.storage_policy_index);
    CHECK(!read_bare.swift_dir);
    CHECK(read_bare.objects.empty());
    CHECK(read_bare.devices.empty());
  }
  SECTION("a name that is not UTF-8 is refused, named")
  {
    request.objects[1].path = "/a/c/\xff";
    CHECK_THROWS_AS(encode_request(request), InputError);
    CHECK_THROWS_WITH(encode_request(request), Catch::Contains("/a/c/\\xff"));
    request.objects[1].path = "/a/c/o";
    request.devices[1] = "sd\xfe";
    CHECK_THROWS_WITH(encode_request(request), Catch::Contains("device name"));
    request.devices[1] = "sdc";
    request.swift_dir = "/etc/\xff";
    CHECK_THROWS_WITH(encode_request(request), Catch::Contains("swift_dir"));
  }
}

TEST_CASE("request documents: the version", "[protocol]")
{
  const auto with_version = [](const std::string& version) {
    return R"({"request": "status", "version": )" + version + R"(, "objects": []})";
  };
  CHECK_NOTHROW(document(R"({"request": "status", "objects": []})"));
  CHECK_NOTHROW(document(with_version("1")));
  // Only the document's own key counts.
  CHECK_NOTHROW(document(R"({"request": "status", "x": {"version": 2},)"
                         R"( "objects": [{"object": "/a/c/o", "version": 2}]})"));
  CHECK_THROWS_WITH(document(with_version("4")),
                    "request document version 4; this hlm-handler reads versions 1 to 3");
  CHECK_THROWS_WITH(document(with_version("0")), Catch::Contains("version 0;"));
  CHECK_THROWS_WITH(document(with_version("-1")), Catch::Contains("version -1;"));
  CHECK_THROWS_WITH(document(with_version("4294967297")), Catch::Contains("version 4294967297;"));
  CHECK_THROWS_WITH(document(with_version("18446744073709551615")),
                    Catch::Contains("version 18446744073709551615;"));
  for (const char* bad : {"1.0", "1e0", R"("1")", "null", "true", "[1]", "{}"}) {
    INFO(bad);
    CHECK_THROWS_AS(document(with_version(bad)), InputError);
    CHECK_THROWS_WITH(document(with_version(bad)), Catch::Contains("\"version\""));
  }
  // After the objects, too: the whole document is checked.
  CHECK_THROWS_WITH(document(R"({"request": "status", "objects": [], "version": 4})"),
                    Catch::Contains("version 4;"));
}

TEST_CASE("request documents of version 2 carry an id", "[protocol]")
{
  Request request;
  request.operation = Operation::recall;
  request.storage_policy_index = 1;
  request.devices = {"sdb1"};
  request.objects = {{"/a/c/o", 0}, {"/a/c/p", Request::k_any_device}};
  // Version 1 unless asked.
  CHECK_THAT(encode_request(request), Catch::Contains(R"("version":1)"));
  CHECK_THAT(encode_request(request), !Catch::Contains(R"("id")"));
  request.version = 2;
  CHECK_THROWS_AS(encode_request(request), InputError); // no id
  for (const std::uint64_t id : {std::uint64_t{0}, std::uint64_t{42}, UINT64_MAX}) {
    request.id = id;
    const auto text = encode_request(request);
    CHECK_THAT(text, Catch::Contains(R"("version":2)"));
    const auto read = document(text);
    CHECK(read.version == 2);
    CHECK(read.id == id);
    CHECK(read.objects.size() == 2);
    CHECK(read.storage_policy_index == 1);
  }
  // The id may come before the version; version 2 needs one.
  CHECK(document(R"({"id": 9, "request": "status", "version": 2, "objects": []})").id == 9U);
  CHECK_THROWS_WITH(document(R"({"request": "status", "version": 2, "objects": []})"),
                    "bad request document: a version 2 document needs an \"id\"");
  for (const char* bad : {"-1", "1.5", R"("1")", "null", "[1]"}) {
    INFO(bad);
    CHECK_THROWS_WITH(document(std::string(R"({"request": "status", "version": 2, "id": )") + bad
                               + R"(, "objects": []})"),
                      Catch::Contains("\"id\" must be a non-negative integer"));
  }
  // Version 1 ignores an id, as any unknown key.
  const auto v1 = document(R"({"request": "status", "id": "x", "objects": []})");
  CHECK(v1.version == 1);
  CHECK(!v1.id);
}

TEST_CASE("a session: request documents one after another", "[protocol]")
{
  Request first;
  first.operation = Operation::migrate;
  first.devices = {"sdb1"};
  first.objects = {{"/a/c/o1", 0}};
  Request second;
  second.operation = Operation::status;
  second.storage_policy_index = 1;
  second.objects = {{"/a/c/o2", Request::k_any_device}, {"/a/c/o3", Request::k_any_device}};

  SECTION("as encode_request writes them, then the end")
  {
    std::istringstream in(encode_request(first) + encode_request(second)
                          + R"({"request":"recall","objects":[]})" + "\n  \n");
    RequestReader reader(in);
    const auto one = reader.next();
    REQUIRE(one);
    CHECK(one->operation == Operation::migrate);
    CHECK(one->devices == std::vector<std::string>{"sdb1"});
    REQUIRE(one->objects.size() == 1);
    CHECK(one->objects[0].path == "/a/c/o1");
    const auto two = reader.next();
    REQUIRE(two);
    CHECK(two->operation == Operation::status);
    CHECK(two->storage_policy_index == 1);
    CHECK(two->devices.empty());
    REQUIRE(two->objects.size() == 2);
    CHECK(two->objects[1].path == "/a/c/o3");
    const auto three = reader.next();
    REQUIRE(three);
    CHECK(three->operation == Operation::recall);
    CHECK(three->objects.empty());
    CHECK(!reader.next());
    CHECK(!reader.next());
  }
  SECTION("with nothing between them")
  {
    std::istringstream in(R"({"request":"status","objects":[]}{"request":"migrate","objects":[]})");
    RequestReader reader(in);
    CHECK(reader.next()->operation == Operation::status);
    CHECK(reader.next()->operation == Operation::migrate);
    CHECK(!reader.next());
  }
  SECTION("no document at all")
  {
    for (const char* text : {"", " \n\t\r\n"}) {
      std::istringstream in(text);
      RequestReader reader(in);
      CHECK(!reader.next());
    }
  }
  SECTION("a bad document after good ones is refused when it is reached")
  {
    for (const std::string bad : {R"({"request":"status","version":2,"objects":[]})",
                                  R"({"request":"status","objects":[{"object":"/a/c"}]})",
                                  R"({"request":"status","objects":[)",
                                  "trailing words"}) {
      INFO(bad);
      std::istringstream in(encode_request(first) + bad);
      RequestReader reader(in);
      CHECK(reader.next());
      CHECK_THROWS_AS(reader.next(), InputError);
    }
  }
  SECTION("read_request_document takes one document only")
  {
    CHECK_THROWS_WITH(document(encode_request(first) + encode_request(second)),
                      Catch::Contains("more input after the document"));
  }
}

TEST_CASE("request documents: a known key with a list or an object for its value is refused",
          "[protocol]")
{
  for (const char* value : {"[]", "[1]", "{}", R"({"a": 1})"}) {
    const std::string v = value;
    INFO(v);
    const auto refused = [](const std::string& text, const std::string& what) {
      CHECK_THROWS_AS(document(text), InputError);
      CHECK_THROWS_WITH(document(text), Catch::Contains(what));
    };
    refused(R"({"request": )" + v + R"(, "objects": []})", "\"request\" must be");
    refused(R"({"request": "status", "version": )" + v + R"(, "objects": []})",
            "\"version\" must be an integer");
    refused(R"({"request": "status", "swift_dir": )" + v + R"(, "objects": []})",
            "\"swift_dir\" must be a string");
    refused(R"({"request": "status", "storage_policy_index": )" + v + R"(, "objects": []})",
            "non-negative");
    refused(R"({"request": "status", "objects": [{"object": )" + v + "}]}",
            "objects[0].object must be a string");
    refused(R"({"request": "status", "objects": [{"object": "/a/c/o", "device": )" + v + "}]}",
            "objects[0].device must be a string");
    // Unknown keys still take any value.
    CHECK_NOTHROW(document(R"({"request": "status", "x": )" + v + R"(, "objects": [{"object": )"
                           + R"("/a/c/o", "y": )" + v + "}]}"));
  }
}

TEST_CASE("a version 2 status may ask for placements", "[protocol][placement]")
{
  Request request;
  request.operation = Operation::status;
  request.objects = {{"/a/c/o", Request::k_any_device}};
  request.placement = true;
  // Version 1 cannot carry it.
  CHECK_THROWS_AS(encode_request(request), InputError);
  request.version = 2;
  request.id = 3;
  const auto text = encode_request(request);
  CHECK_THAT(text, Catch::Contains(R"("placement":true)"));
  CHECK(document(text).placement);
  // Nor another operation.
  request.operation = Operation::recall;
  CHECK_THROWS_AS(encode_request(request), InputError);

  CHECK_FALSE(document(R"({"request":"status","version":2,"id":1,"placement":false,"objects":[]})")
                .placement);
  CHECK_FALSE(
    document(R"({"request":"status","version":2,"id":1,"placement":null,"objects":[]})").placement);
  CHECK_FALSE(document(R"({"request":"status","version":2,"id":1,"objects":[]})").placement);
  // Read in version 2 only, and for a status only.
  CHECK_FALSE(document(R"({"request":"status","placement":true,"objects":[]})").placement);
  CHECK_FALSE(
    document(R"({"request":"recall","version":2,"id":1,"placement":true,"objects":[]})").placement);
  for (const char* bad : {"1", R"("yes")", "[true]", R"({"a":1})"}) {
    INFO(bad);
    CHECK_THROWS_WITH(document(std::string(R"({"request":"status","version":2,"id":1,"placement":)")
                               + bad + R"(,"objects":[]})"),
                      Catch::Contains("\"placement\" must be true or false"));
  }
}

TEST_CASE("version 3: a recall's restore_until and a migrate's release_before", "[protocol]")
{
  Request request;
  request.operation = Operation::recall;
  request.objects = {{"/a/c/o", Request::k_any_device}};
  request.restore_until = 1'800'000'000;
  // Versions 1 and 2 cannot carry it: an older handler would recall (or
  // migrate) without it.
  CHECK_THROWS_AS(encode_request(request), InputError);
  request.version = 2;
  request.id = 3;
  CHECK_THROWS_AS(encode_request(request), InputError);
  request.version = 3;
  const auto text = encode_request(request);
  CHECK_THAT(text, Catch::Contains(R"("restore_until":1800000000)"));
  CHECK(document(text).restore_until == 1'800'000'000);
  CHECK_FALSE(document(text).release_before);
  // Nor another operation.
  request.operation = Operation::migrate;
  CHECK_THROWS_AS(encode_request(request), InputError);
  request.restore_until.reset();
  request.release_before = 1'800'000'000;
  CHECK(document(encode_request(request)).release_before == 1'800'000'000);
  request.operation = Operation::status;
  CHECK_THROWS_AS(encode_request(request), InputError);

  // Read in version 3 only; refused for the wrong operation or a value
  // that is no Unix time.
  CHECK_FALSE(document(R"({"request":"recall","version":2,"id":1,"restore_until":5,"objects":[]})")
                .restore_until);
  CHECK_THROWS_WITH(
    document(R"({"request":"migrate","version":3,"id":1,"restore_until":5,"objects":[]})"),
    Catch::Contains("\"restore_until\" is for a recall only"));
  CHECK_THROWS_WITH(
    document(R"({"request":"status","version":3,"id":1,"release_before":5,"objects":[]})"),
    Catch::Contains("\"release_before\" is for a migrate only"));
  for (const char* bad : {"-1", R"("soon")", "1.5", "true", "[1]", "253402300800"}) {
    INFO(bad);
    CHECK_THROWS_AS(document(std::string(R"({"request":"recall","version":3,"id":1,)")
                             + R"("restore_until":)" + bad + R"(,"objects":[]})"),
                    InputError);
  }
  CHECK(document(R"({"request":"recall","version":3,"id":1,"restore_until":253402300799,)"
                 R"("objects":[]})")
          .restore_until
        == 253'402'300'799);
}

TEST_CASE("version 3: a migrate or recall estimated, not done", "[protocol]")
{
  Request request;
  request.operation = Operation::recall;
  request.objects = {{"/a/c/o", Request::k_any_device}};
  request.estimate = true;
  request.version = 2;
  request.id = 1;
  CHECK_THROWS_AS(encode_request(request), InputError);
  request.version = 3;
  const auto text = encode_request(request);
  CHECK_THAT(text, Catch::Contains(R"("estimate":true)"));
  CHECK(document(text).estimate);
  request.operation = Operation::status;
  CHECK_THROWS_AS(encode_request(request), InputError);

  CHECK_FALSE(
    document(R"({"request":"migrate","version":2,"id":1,"estimate":true,"objects":[]})").estimate);
  CHECK_FALSE(document(R"({"request":"migrate","version":3,"id":1,"objects":[]})").estimate);
  CHECK_THROWS_WITH(
    document(R"({"request":"status","version":3,"id":1,"estimate":true,"objects":[]})"),
    Catch::Contains("\"estimate\" is for a migrate or recall only"));
  CHECK_THROWS_WITH(
    document(R"({"request":"migrate","version":3,"id":1,"estimate":1,"objects":[]})"),
    Catch::Contains("\"estimate\" must be true or false"));
}

TEST_CASE("version 3: a status that asks for restore marks", "[protocol]")
{
  Request request;
  request.operation = Operation::status;
  request.objects = {{"/a/c/o", Request::k_any_device}};
  request.restore_marks = true;
  request.version = 2;
  request.id = 1;
  CHECK_THROWS_AS(encode_request(request), InputError);
  request.version = 3;
  const auto text = encode_request(request);
  CHECK_THAT(text, Catch::Contains(R"("restore_marks":true)"));
  CHECK(document(text).restore_marks);
  request.operation = Operation::recall;
  CHECK_THROWS_AS(encode_request(request), InputError);
  // Read for a status in version 3 only.
  CHECK_FALSE(
    document(R"({"request":"status","version":2,"id":1,"restore_marks":true,"objects":[]})")
      .restore_marks);
  CHECK_FALSE(
    document(R"({"request":"recall","version":3,"id":1,"restore_marks":true,"objects":[]})")
      .restore_marks);
  CHECK_THROWS_WITH(
    document(R"({"request":"status","version":3,"id":1,"restore_marks":"yes","objects":[]})"),
    Catch::Contains("\"restore_marks\" must be true or false"));
}
