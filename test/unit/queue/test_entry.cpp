#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::queue;

namespace {

Entry
make_entry(std::string account,
           std::string container,
           std::string object = {},
           Operation op = Operation::migrate,
           int policy = 0,
           std::string submitted = "20260101000000.000")
{
  return Entry{std::move(submitted),
               op,
               Target{std::move(account), std::move(container), std::move(object)},
               policy};
}

std::string
decode_error(std::string_view name)
{
  try {
    decode_entry(name);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("entry: encodes the seed's layout", "[queue]")
{
  CHECK(encode_entry(make_entry("AUTH_test", "cont3", "obj00"))
        == "/20260101000000.000/migrate/AUTH_test/cont3/0/obj00");
  CHECK(encode_entry(make_entry("AUTH_test", "cont3", {}, Operation::recall, 1))
        == "/20260101000000.000/recall/AUTH_test/cont3/1");
  CHECK(encode_entry(make_entry("a", "c", "/leading/and//double/", Operation::migrate, 12))
        == "/20260101000000.000/migrate/a/c/12//leading/and//double/");
}

TEST_CASE("entry: hostile names round-trip", "[queue]")
{
  const std::vector<Entry> entries = {
    make_entry("AUTH_t\xc3\xa9st",
               "c\xe2\x82\xac",
               "\xf0\x9f\x93\xbc tape/\xe6\x97\xa5\xe6\x9c\xac"),
    make_entry("AUTH_x", "100% sure", "50%25 off?#frag&x=y"),
    make_entry("AUTH_x", "with space", " spaces \t tabs \n newlines \r\n"),
    make_entry("AUTH_x", "c", "0/migrate/AUTH_x"),
    make_entry("AUTH_x", "20260101000000.000", "20260101000000.000"),
    make_entry("migrate", "recall", "0"),
    make_entry("AUTH_x", "c--d", "a--b--c"),
    make_entry("AUTH_x", "c", "/"),
    make_entry("AUTH_x", "c", "//"),
    make_entry("AUTH_x", "c", ".."),
    make_entry("AUTH_x", "c", "a/../b/./c"),
    make_entry("AUTH_x", "c", std::string(1024, 'o')),
    make_entry("AUTH_x", "c", std::string(341, 'x') + "\xe2\x82\xac"),
  };
  for (const auto& entry : entries) {
    const std::string name = encode_entry(entry);
    INFO(name);
    CHECK(decode_entry(name) == entry);
  }
  const auto long_name = encode_entry(make_entry("AUTH_x", "c", std::string(1024, 'o')));
  CHECK(long_name.size() == std::string("/20260101000000.000/migrate/AUTH_x/c/0/").size() + 1024);
}

TEST_CASE("entry: decodes the legacy '--' form", "[queue]")
{
  const auto plain = decode_entry("20170303034043.566--migrate--AUTH_test--cont3--0--obj00");
  CHECK(plain
        == make_entry("AUTH_test", "cont3", "obj00", Operation::migrate, 0, "20170303034043.566"));
  const auto container = decode_entry("20170303034800.465--recall--AUTH_test--cont3--1");
  CHECK(container
        == make_entry("AUTH_test", "cont3", {}, Operation::recall, 1, "20170303034800.465"));
  const auto dashes = decode_entry("20170303034800.465--migrate--AUTH_test--c--0--a--b/--c--");
  CHECK(dashes.target.object == "a--b/--c--");
  CHECK(dashes.target.container == "c");
  const auto slashes = decode_entry("20170303034800.465--migrate--AUTH_test--c--2--/x/y");
  CHECK(slashes.target.object == "/x/y");
  CHECK(slashes.policy_index == 2);
}

TEST_CASE("entry: bad forms are rejected with a precise reason", "[queue]")
{
  CHECK(decode_error("/20260101000000.000/delete/a/c/0")
        == "queue entry \"/20260101000000.000/delete/a/c/0\": unknown operation \"delete\" "
           "(expected migrate or recall)");
  CHECK_THAT(decode_error("/20260101000000.000/status/a/c/0"),
             Catch::Contains("unknown operation \"status\""));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/x"),
             Catch::Contains("policy index \"x\" is not a number"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/-1"),
             Catch::Contains("policy index \"-1\" is not a number"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/+1"),
             Catch::Contains("policy index \"+1\" is not a number"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/"),
             Catch::Contains("policy index \"\" is not a number"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/99999999999"),
             Catch::Contains("out of range"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/0/"),
             Catch::Contains("empty object name"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c"),
             Catch::Contains("expected at least 5"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate//c/0"), Catch::Contains("empty account"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a//0"), Catch::Contains("empty container"));
  CHECK_THAT(decode_error("/2026010100000.000/migrate/a/c/0"),
             Catch::Contains("submitted time \"2026010100000.000\" is not YYYYmmddHHMMSS.mmm"));
  CHECK_THAT(decode_error("/20260101000000,000/migrate/a/c/0"), Catch::Contains("submitted time"));
  CHECK_THAT(decode_error("/20260101000000.0000/migrate/a/c/0"), Catch::Contains("submitted time"));
  CHECK_THAT(decode_error("/2026010100000a.000/migrate/a/c/0"), Catch::Contains("submitted time"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/0/o\xff"),
             Catch::Contains("is not valid UTF-8") && Catch::Contains("\\xff"));
  CHECK_THAT(decode_error(std::string("/20260101000000.000/migrate/a/c/0/o\0x", 41)),
             Catch::Contains("NUL"));
  CHECK_THAT(decode_error("/20260101000000.000/migrate/a/c/0\n/o"),
             Catch::Contains("policy index \"0\\n\""));
  CHECK_THAT(decode_error(""), Catch::Contains("neither"));
  CHECK_THAT(decode_error("garbage"), Catch::Contains("neither"));
  CHECK_THAT(decode_error("20170303034043.566--migrate--AUTH_test--cont3--x--obj"),
             Catch::Contains("policy index \"x\" is not a number"));
  CHECK_THAT(decode_error("20170303034043.566--migrate--AUTH_test--cont3"),
             Catch::Contains("expected at least 5"));
  CHECK_THAT(decode_error("20170303034043.566--migrate--AUTH_test--cont3--0--"),
             Catch::Contains("empty object name after \"--\""));
  CHECK_THAT(decode_error("20170303034043.566--migrate--AUTH/test--cont3--0"),
             Catch::Contains("account \"AUTH/test\" contains '/'"));
  CHECK_THAT(decode_error("2017--migrate--AUTH_test--cont3--0"), Catch::Contains("submitted time"));
  // A hostile name cannot forge output through the message.
  CHECK_THAT(decode_error("/x\x1b[31m"), Catch::Contains("\\x1b[31m"));
}

TEST_CASE("entry: what cannot be encoded is refused", "[queue]")
{
  CHECK_THROWS_AS(encode_entry(make_entry("", "c")), InputError);
  CHECK_THROWS_AS(encode_entry(make_entry("a", "")), InputError);
  CHECK_THROWS_WITH(encode_entry(make_entry("a/b", "c")), Catch::Contains("contains '/'"));
  CHECK_THROWS_WITH(encode_entry(make_entry("a", "c/d")), Catch::Contains("contains '/'"));
  CHECK_THROWS_WITH(encode_entry(make_entry("a", "c", "o\xc3")), Catch::Contains("UTF-8"));
  CHECK_THROWS_WITH(encode_entry(make_entry("a\xff", "c")), Catch::Contains("UTF-8"));
  CHECK_THROWS_WITH(encode_entry(make_entry("a", "c", std::string("o\0", 2))),
                    Catch::Contains("NUL"));
  CHECK_THROWS_WITH(encode_entry(make_entry("a", "c", {}, Operation::status)),
                    Catch::Contains("status"));
  CHECK_THROWS_WITH(encode_entry(make_entry("a", "c", {}, Operation::migrate, -1)),
                    Catch::Contains("negative policy"));
  for (const char* submitted : {"",
                                "2026",
                                "20260101000000.00",
                                "20260101000000000",
                                "2026010100000.0000",
                                "20260101000000.00x",
                                " 0260101000000.000"}) {
    INFO(submitted);
    CHECK_THROWS_WITH(encode_entry(make_entry("a", "c", "o", Operation::migrate, 0, submitted)),
                      Catch::Contains("submitted time"));
  }
}

TEST_CASE("entry: random entries round-trip", "[queue]")
{
  std::mt19937 random(20260101);
  // Pieces that stress the separators and the escaping.
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "0",
                                           "/",
                                           "//",
                                           "--",
                                           "-",
                                           ".",
                                           "..",
                                           "%",
                                           "%2F",
                                           "?",
                                           "#",
                                           "&",
                                           "=",
                                           " ",
                                           "\t",
                                           "\n",
                                           "\r",
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x93\xbc",
                                           "migrate",
                                           "recall",
                                           "20260101000000.000",
                                           "\\",
                                           "\"",
                                           "'",
                                           ";",
                                           ":",
                                           "+",
                                           "~"};
  const auto word = [&](bool slash_allowed, std::size_t max_pieces) {
    std::string out;
    const std::size_t count = 1 + random() % max_pieces;
    while (out.size() < count) {
      const auto& piece = pieces[random() % pieces.size()];
      if (!slash_allowed && piece.find('/') != std::string::npos) {
        continue;
      }
      out += piece;
    }
    return out;
  };
  for (int i = 0; i < 2000; ++i) {
    char submitted[19];
    std::snprintf(submitted,
                  sizeof submitted,
                  "%014llu.%03u",
                  static_cast<unsigned long long>(random()) * 1000003ULL % 100000000000000ULL,
                  static_cast<unsigned>(random() % 1000));
    const Entry entry = make_entry(word(false, 12),
                                   word(false, 12),
                                   random() % 4 == 0 ? std::string() : word(true, 40),
                                   random() % 2 ? Operation::migrate : Operation::recall,
                                   static_cast<int>(random() % 20),
                                   submitted);
    const std::string name = encode_entry(entry);
    INFO(name);
    REQUIRE(decode_entry(name) == entry);
  }
}

TEST_CASE("entry: submitted times are UTC with milliseconds", "[queue]")
{
  using namespace std::chrono;
  CHECK(format_submitted(system_clock::time_point{}) == "19700101000000.000");
  const auto t = sys_days{year{2026} / 11 / 22} + hours{8} + minutes{12} + seconds{34}
                 + microseconds{567890};
  CHECK(format_submitted(t) == "20261122081234.567");
  CHECK(format_submitted(sys_days{year{2026} / 12 / 31} + hours{23} + minutes{59} + seconds{59}
                         + milliseconds{999})
        == "20261231235959.999");
  // What it makes is what encode_entry accepts.
  CHECK_NOTHROW(encode_entry(
    make_entry("a", "c", {}, Operation::migrate, 0, format_submitted(system_clock::now()))));
}

TEST_CASE("entry: which requests concern a target", "[queue]")
{
  const auto container_entry = make_entry("AUTH_a", "c");
  const auto object_entry = make_entry("AUTH_a", "c", "o");
  const auto other_object = make_entry("AUTH_a", "c", "p");
  const auto other_container = make_entry("AUTH_a", "d", "o");
  const auto other_account = make_entry("AUTH_b", "c", "o");

  const Target container{"AUTH_a", "c", {}};
  CHECK(concerns(container_entry, container));
  CHECK(concerns(object_entry, container));
  CHECK(concerns(other_object, container));
  CHECK_FALSE(concerns(other_container, container));
  CHECK_FALSE(concerns(other_account, container));

  const Target object{"AUTH_a", "c", "o"};
  CHECK(concerns(container_entry, object));
  CHECK(concerns(object_entry, object));
  CHECK_FALSE(concerns(other_object, object));
  CHECK_FALSE(concerns(other_container, object));
  CHECK_FALSE(concerns(other_account, object));

  const Target account{"AUTH_a", {}, {}};
  CHECK(concerns(container_entry, account));
  CHECK(concerns(object_entry, account));
  CHECK(concerns(other_container, account));
  CHECK_FALSE(concerns(other_account, account));
}

TEST_CASE("a recall's copies ride in the row's content type", "[entry][copies]")
{
  CHECK(parse_copies("1") == 1U);
  CHECK(parse_copies("3") == 3U);
  CHECK(parse_copies("1000") == 1000U);
  CHECK(parse_copies("all") == k_all_copies);
  for (const char* bad : {"", "0", "-1", "+1", "1.5", "two", "ALL", "1001", "99999", " 1"}) {
    INFO(bad);
    CHECK_FALSE(parse_copies(bad));
  }
  CHECK(format_copies(2) == "2");
  CHECK(format_copies(k_all_copies) == "all");

  const std::string plain(k_entry_content_type);
  CHECK(with_copies(plain, std::nullopt) == plain);
  CHECK(with_copies(plain, 2) == "application/swifthlm-task; copies=2");
  CHECK(with_copies(plain, k_all_copies) == "application/swifthlm-task; copies=all");
  CHECK_FALSE(copies_of(plain));
  CHECK(copies_of(with_copies(plain, 2)) == 2U);
  // As a listing shows it, beside the retry state, in any order.
  CHECK(copies_of("application/swifthlm-task;attempts=2;copies=all;retry_after=9") == k_all_copies);
  CHECK(copies_of("application/swifthlm-task;attempts=2;retry_after=9;copies=1") == 1U);
  // Malformed: read as absent (the configured default).
  CHECK_FALSE(copies_of("application/swifthlm-task; copies=0"));
  CHECK_FALSE(copies_of("application/swifthlm-task; copies="));
  CHECK_FALSE(copies_of("application/swifthlm-task; copies=x"));
}
