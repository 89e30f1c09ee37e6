#include "../../support/temp_dir.hpp"

#include <hlm/util/error.hpp>

#include <connectors/tapesim/tape_record.hpp>

#include <catch2/catch.hpp>

#include <fcntl.h>

using namespace hlm;
using namespace hlm::connector::tapesim;

namespace {

TapeRecordHeader
sample_header()
{
  TapeRecordHeader header;
  header.object = "/AUTH_test/c/été";
  header.data_file = "1795332046.73390.data";
  header.data_length = 123'456'789'012;
  header.data_md5 = "0123456789abcdef0123456789abcdef";
  // Raw values with NULs and a 64 KiB continuation, as Swift splits them.
  header.xattrs = {{"user.swift.metadata", std::string("\x80\x02}q\x00(X", 7)},
                   {"user.swift.metadata1", std::string(65'536, '\xff')},
                   {"user.swift.metadata_checksum", "d41d8cd98f00b204e9800998ecf8427e"}};
  return header;
}

void
check_equal(const TapeRecordHeader& a, const TapeRecordHeader& b)
{
  CHECK(a.object == b.object);
  CHECK(a.data_file == b.data_file);
  CHECK(a.data_length == b.data_length);
  CHECK(a.data_md5 == b.data_md5);
  CHECK(a.xattrs == b.xattrs);
}

} // namespace

TEST_CASE("tape record header round trip", "[tapesim][tape_record]")
{
  const auto header = sample_header();
  const auto bytes = encode_header(header);
  CHECK(bytes.substr(0, 6) == std::string("HLMT\x00\x01", 6));
  // header_length, big-endian, is the whole header.
  const auto length = (std::uint32_t(std::uint8_t(bytes[6])) << 24)
                      | (std::uint32_t(std::uint8_t(bytes[7])) << 16)
                      | (std::uint32_t(std::uint8_t(bytes[8])) << 8) | std::uint8_t(bytes[9]);
  CHECK(length == bytes.size());
  check_equal(decode_header(bytes), header);

  // An upper-case MD5 is stored as bytes and comes back lower-case.
  auto upper = header;
  upper.data_md5 = "0123456789ABCDEF0123456789ABCDEF";
  CHECK(decode_header(encode_header(upper)).data_md5 == header.data_md5);

  // No xattrs, empty names: still a valid record.
  TapeRecordHeader empty;
  empty.data_md5 = "d41d8cd98f00b204e9800998ecf8427e";
  check_equal(decode_header(encode_header(empty)), empty);
}

TEST_CASE("tape record header is read from a cartridge at its position", "[tapesim][tape_record]")
{
  test::TempDir dir;
  const auto header = sample_header();
  const auto bytes = encode_header(header);
  const auto path = dir.write("cartridge", "some earlier bytes" + bytes + "data…");
  File cartridge(path, O_RDONLY);
  std::uint64_t length = 0;
  check_equal(read_header(cartridge, 18, length), header);
  CHECK(length == bytes.size());
  CHECK_THROWS_AS(read_header(cartridge, 0, length), InputError); // no header there
  CHECK_THROWS_WITH(read_header(cartridge, 0, length),
                    Catch::Contains("at byte 0") && Catch::Contains("bad magic"));
}

TEST_CASE("tape record header refuses corrupt or foreign bytes", "[tapesim][tape_record]")
{
  const auto bytes = encode_header(sample_header());
  for (const std::size_t at : {std::size_t{0},
                               std::size_t{5},
                               std::size_t{12},
                               std::size_t{40},
                               bytes.size() / 2,
                               bytes.size() - 1}) {
    INFO("byte " << at << " flipped");
    auto corrupt = bytes;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0x01);
    CHECK_THROWS_AS(decode_header(corrupt), InputError);
  }
  CHECK_THROWS_WITH(decode_header(bytes.substr(0, bytes.size() - 1)),
                    Catch::Contains("says") && Catch::Contains("given"));
  auto flipped = bytes;
  flipped[100] = static_cast<char>(flipped[100] ^ 0x01);
  CHECK_THROWS_WITH(decode_header(flipped), Catch::Contains("checksum mismatch"));
  auto version2 = bytes;
  version2[5] = 2;
  CHECK_THROWS_WITH(decode_header(version2), Catch::Contains("version 2"));

  auto bad_md5 = sample_header();
  bad_md5.data_md5 = "not an md5";
  CHECK_THROWS_AS(encode_header(bad_md5), InputError);
  bad_md5.data_md5 = "0123456789abcdef0123456789abcdeg";
  CHECK_THROWS_AS(encode_header(bad_md5), InputError);
}
