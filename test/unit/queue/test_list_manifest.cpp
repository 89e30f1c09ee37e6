#include <hlm/queue/list_manifest.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::queue;

namespace {

ListHeader
header_of(std::string account = "AUTH_test", std::string container = "c")
{
  return ListHeader{Operation::recall, std::move(account), std::move(container), 1};
}

std::string
manifest_of(const std::vector<std::string>& names)
{
  std::string body;
  ManifestWriter writer(header_of(), [&](std::string_view bytes) { body.append(bytes); });
  for (const auto& name : names) {
    writer.add(name);
  }
  writer.finish();
  return body;
}

struct Read
{
  std::vector<std::string> names;
  std::uint64_t count = 0;
  ListHeader header;
};

// Reads `body` fed `piece` bytes at a time.
Read
read_manifest(std::string_view body, std::size_t piece = 1'000'000)
{
  Read read;
  ManifestReader reader("manifest M",
                        [&](std::string_view name) { read.names.emplace_back(name); });
  for (std::size_t at = 0; at < body.size(); at += piece) {
    reader.feed(body.substr(at, piece));
  }
  read.count = reader.finish();
  read.header = *reader.header();
  return read;
}

std::string
read_error(std::string_view body)
{
  try {
    read_manifest(body);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("a manifest reads back the names written, fed in pieces of any size", "[list]")
{
  const std::vector<std::string> names = {"a",
                                          "a/b",
                                          "line\nbreak",
                                          "quote\"and\\back",
                                          "tab\there",
                                          std::string(1024, 'z'),
                                          "\xc3\xa9t\xc3\xa9"};
  const std::string body = manifest_of(names);
  CHECK(body.rfind("{\"account\":\"AUTH_test\"", 0) == 0);
  CHECK(body.substr(body.size() - 23) == "{\"count\":7,\"end\":true}\n");
  for (const std::size_t piece : {1, 2, 7, 4096}) {
    const Read read = read_manifest(body, piece);
    CHECK(read.names == names);
    CHECK(read.count == 7);
    CHECK(read.header == header_of());
  }
}

TEST_CASE("an empty list is a manifest of no names", "[list]")
{
  const Read read = read_manifest(manifest_of({}));
  CHECK(read.names.empty());
  CHECK(read.count == 0);
}

TEST_CASE("the writer refuses what the reader would refuse", "[list]")
{
  std::string body;
  ManifestWriter writer(header_of(), [&](std::string_view bytes) { body.append(bytes); });
  writer.add("b");
  const auto before = body;
  CHECK_THROWS_WITH(writer.add("a"), Catch::Contains("out of order"));
  CHECK_THROWS_WITH(writer.add("b"), Catch::Contains("out of order"));
  CHECK_THROWS_WITH(writer.add(""), Catch::Contains("empty object name"));
  CHECK_THROWS_WITH(writer.add(std::string(1025, 'x')), Catch::Contains("1025 bytes"));
  CHECK_THROWS_WITH(writer.add("c\xff"), Catch::Contains("not valid UTF-8"));
  CHECK_THROWS_WITH(writer.add(std::string("c\0d", 3)), Catch::Contains("without NUL"));
  CHECK(body == before);
  CHECK(writer.finish() == 1);
  CHECK_THROWS_WITH(writer.add("z"), Catch::Contains("after its last line"));
  CHECK_THROWS_AS(ManifestWriter(header_of("AUTH_test", "a/b"), [](std::string_view) {}),
                  InputError);
  CHECK_THROWS_AS(
    ManifestWriter(ListHeader{Operation::status, "AUTH_test", "c", 0}, [](std::string_view) {}),
    InputError);
}

TEST_CASE("a cut, reordered or forged manifest is refused with its line", "[list]")
{
  const std::string body = manifest_of({"a", "b", "c"});
  const auto last_line = body.rfind('{');
  // Cut before the last line, and in the middle of a line.
  CHECK(
    read_error(body.substr(0, last_line))
    == "manifest M, line 4: it ends after 3 names without its last line (the manifest was cut)");
  CHECK_THAT(read_error(body.substr(0, body.size() - 3)),
             Catch::Contains("line 5: the last line has no newline"));
  CHECK_THAT(read_error(""), Catch::Contains("it is empty"));
  const std::string header = body.substr(0, body.find('\n') + 1);
  CHECK_THAT(read_error(header + "\"b\"\n\"a\"\n{\"end\":true,\"count\":2}\n"),
             Catch::Contains("line 3: a is not after b"));
  CHECK_THAT(read_error(header + "\"a\"\n\"a\"\n{\"end\":true,\"count\":2}\n"),
             Catch::Contains("line 3: a is not after a"));
  CHECK_THAT(read_error(header + "\"a\"\n{\"end\":true,\"count\":2}\n"),
             Catch::Contains("line 3: the last line says 2 names, the manifest holds 1"));
  CHECK_THAT(read_error(header + "\"a\\u0000b\"\n{\"end\":true,\"count\":1}\n"),
             Catch::Contains("line 2: object name"));
  CHECK_THAT(read_error(header + "\"\"\n{\"end\":true,\"count\":1}\n"),
             Catch::Contains("line 2: an empty object name"));
  CHECK_THAT(read_error(header + "[1]\n"),
             Catch::Contains("line 2: neither a name nor the last line"));
  CHECK_THAT(read_error(header + "\"a\n"), Catch::Contains("line 2: not a JSON string"));
  CHECK_THAT(read_error(body + "\"z\"\n"), Catch::Contains("line 6: a line after the last line"));
  CHECK_THAT(read_error("{\"format\":2}\n"),
             Catch::Contains("line 1: not a format-1 manifest header"));
  CHECK_THAT(read_error("{\"format\":1,\"operation\":\"status\",\"account\":\"a\",\"container\":"
                        "\"c\",\"policy\":0}\n"),
             Catch::Contains("line 1:"));
  CHECK_THAT(read_error("{\"format\":1,\"operation\":\"recall\"}\n"),
             Catch::Contains("line 1: a header without operation"));
  CHECK_THAT(read_error(header + std::string(7000, '"') + "\n"),
             Catch::Contains("line 2: a line longer than"));
}

TEST_CASE("list ids sort by submission and are told from other names", "[list]")
{
  const std::string id = make_list_id("20261203142100.123");
  CHECK(id.size() == 35);
  CHECK(id.rfind("20261203142100.123-", 0) == 0);
  CHECK(is_list_id(id));
  CHECK(make_list_id("20261203142100.123") != id);
  CHECK_FALSE(is_list_id("20261203142100.123-0123456789abcdeF"));
  CHECK_FALSE(is_list_id("20261203142100.123-0123456789abcde"));
  CHECK_FALSE(is_list_id("20261203142100x123-0123456789abcdef"));
  CHECK_FALSE(is_list_id("2026120314210a.123-0123456789abcdef"));
  CHECK_FALSE(is_list_id("20261203142100.123_0123456789abcdef"));
  CHECK_FALSE(is_list_id("object"));
}

TEST_CASE("a list row's progress rides in its content type", "[list]")
{
  const ListProgress progress{100'000, 20'000, 3};
  const std::string type = list_content_type(progress);
  CHECK(type == "application/x-hlm-list; count=100000; done=20000; failed=3");
  CHECK(list_progress_of(type) == progress);
  // As a listing shows it.
  CHECK(list_progress_of("application/x-hlm-list;count=5;done=5;failed=0")
        == ListProgress{5, 5, 0});
  CHECK_FALSE(list_progress_of("application/swifthlm-task; count=5; done=5; failed=0"));
  CHECK_FALSE(list_progress_of("application/x-hlm-list; count=5; done=6; failed=0"));
  CHECK_FALSE(list_progress_of("application/x-hlm-list; count=5; done=5; failed=6"));
  CHECK_FALSE(list_progress_of("application/x-hlm-list; count=5; done=-1; failed=0"));
  CHECK_FALSE(list_progress_of("application/x-hlm-list; count=5"));
}
