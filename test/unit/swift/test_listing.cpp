#include <hlm/swift/listing.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm::swift;

TEST_CASE("listing_query encodes marker, prefix and end_marker", "[swift]")
{
  ListOptions options;
  CHECK(listing_query(options, "") == "format=json&limit=10000");
  options.limit = 10;
  options.prefix = "dir/sub dir/";
  options.end_marker = "z&z";
  CHECK(
    listing_query(options, "caf\xc3\xa9?#")
    == "format=json&limit=10&marker=caf%C3%A9%3F%23&prefix=dir%2Fsub%20dir%2F&end_marker=z%26z");
}

TEST_CASE("parse_object_listing reads Swift's JSON rows", "[swift]")
{
  const auto entries = parse_object_listing(R"([
    {"hash": "d41d8cd98f00b204e9800998ecf8427e", "last_modified": "2024-05-01T12:00:00.123450",
     "bytes": 0, "name": "empty", "content_type": "application/octet-stream"},
    {"hash": "5d41402abc4b2a76b9719d911017c592", "last_modified": "2024-05-01T12:00:01.000000",
     "bytes": 12345678901, "name": "caf\u00e9/\ud83d\udcfc a%25b?c#d\ne", "content_type": "text/plain"},
    {"subdir": "dir/"}
  ])");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "empty");
  CHECK(entries[0].bytes == 0);
  CHECK(entries[0].hash == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(entries[0].last_modified == "2024-05-01T12:00:00.123450");
  CHECK(entries[0].content_type == "application/octet-stream");
  CHECK(entries[1].name == "caf\xc3\xa9/\xf0\x9f\x93\xbc a%25b?c#d\ne");
  CHECK(entries[1].bytes == 12345678901ULL);
}

TEST_CASE("parse_container_listing reads count and bytes", "[swift]")
{
  const auto entries = parse_container_listing(
    R"([{"count": 3, "bytes": 42, "name": "c1", "last_modified": "2024-05-01T12:00:00.000000"},
        {"count": 0, "bytes": 0, "name": "\u00e9"}])");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "c1");
  CHECK(entries[0].object_count == 3);
  CHECK(entries[0].bytes == 42);
  CHECK(entries[1].name == "\xc3\xa9");
  CHECK(entries[1].last_modified.empty());
  CHECK(parse_container_listing("[]").empty());
}

TEST_CASE("bad listings are InputError", "[swift]")
{
  CHECK_THROWS_AS(parse_object_listing(""), hlm::InputError);
  CHECK_THROWS_AS(parse_object_listing("{}"), hlm::InputError);
  CHECK_THROWS_AS(parse_object_listing("[1]"), hlm::InputError);
  CHECK_THROWS_AS(parse_object_listing(R"([{"name": 5}])"), hlm::InputError);
  CHECK_THROWS_AS(parse_object_listing(R"([{"name": "a", "bytes": -1}])"), hlm::InputError);
  CHECK_THROWS_AS(parse_object_listing(R"([{"name": "a", "bytes": "1"}])"), hlm::InputError);
  CHECK_THROWS_AS(parse_container_listing("[{\"name\": \"a\"}"), hlm::InputError);
}
