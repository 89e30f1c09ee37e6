#include "../support/swift_metadata.hpp"
#include "../support/temp_dir.hpp"

#include <hlm/diskfile/metadata.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <catch2/catch.hpp>

#include <sys/xattr.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using hlm::diskfile::MetadataMap;
using hlm::diskfile::ObjectMetadata;
using hlm::diskfile::read_object_metadata;

namespace {

const std::string k_data_dir = std::string(HLM_TEST_DATA_DIR) + "/diskfile/";

std::string
load_vector(const std::string& name)
{
  std::ifstream in(k_data_dir + name + ".pickle", std::ios::binary | std::ios::ate);
  if (!in) {
    throw std::runtime_error("cannot open test vector " + name);
  }
  std::string data(static_cast<std::size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  return data;
}

// The MD5 Python computed for a vector (MD5SUMS, written by
// make_vectors.py), i.e. what Swift stores in user.swift.metadata_checksum.
std::string
md5_of_vector(const std::string& name)
{
  std::ifstream in(k_data_dir + "MD5SUMS");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string md5;
    std::string file;
    fields >> md5 >> file;
    if (file == name + ".pickle") {
      return md5;
    }
  }
  throw std::runtime_error("no MD5 for test vector " + name);
}

using hlm::test::TempDir;

fs::path
make_file(const TempDir& dir, const std::string& name)
{
  const auto path = dir.path() / name;
  std::ofstream(path) << "abc";
  return path;
}

// 0 or the errno of setxattr(2).
int
try_set_xattr(const fs::path& file, const std::string& name, const std::string& value)
{
  return ::setxattr(file.c_str(), name.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
}

void
set_xattr(const fs::path& file, const std::string& name, const std::string& value)
{
  if (const int error = try_set_xattr(file, name, value)) {
    FAIL("setxattr " << name << " on " << file << ": " << std::strerror(error)
                     << " (the unit tests need user xattrs in the working "
                        "directory)");
  }
}

// What Swift's write_metadata() does: 65,536-byte chunks, then the checksum.
// Returns 0 or the errno of the first setxattr that failed.
int
try_write_swift_metadata(const fs::path& file,
                         const std::string& pickle,
                         const std::string& checksum,
                         std::size_t chunk_size = 65536)
{
  for (std::size_t offset = 0, index = 0; offset < pickle.size(); offset += chunk_size, ++index) {
    if (const int error = try_set_xattr(file,
                                        "user.swift.metadata"
                                          + (index ? std::to_string(index) : ""),
                                        pickle.substr(offset, chunk_size))) {
      return error;
    }
  }
  return try_set_xattr(file, "user.swift.metadata_checksum", checksum);
}

void
write_swift_metadata(const fs::path& file,
                     const std::string& pickle,
                     const std::string& checksum,
                     std::size_t chunk_size = 65536)
{
  if (const int error = try_write_swift_metadata(file, pickle, checksum, chunk_size)) {
    FAIL("writing Swift metadata to " << file << ": " << std::strerror(error)
                                      << " (the unit tests need user xattrs "
                                         "in the working directory)");
  }
}

std::string
error_of(const fs::path& file)
{
  try {
    read_object_metadata(file);
  } catch (const hlm::Error& e) {
    return e.what();
  }
  return "(no error)";
}

} // namespace

TEST_CASE("read_object_metadata: a .data file written by Swift")
{
  TempDir dir;
  const auto file = make_file(dir, "1795332046.73390.data");
  write_swift_metadata(file, load_vector("swift_data"), md5_of_vector("swift_data"));

  const auto metadata = read_object_metadata(file);
  CHECK(metadata.name() == "/AUTH_test/c/\xc3\xa9t\xc3\xa9 \xe2\x98\x83");
  CHECK(metadata.timestamp() == "1795332046.73390");
  CHECK(metadata.etag() == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(metadata.content_length() == 3u);
  CHECK(metadata.content_type() == "text/plain");
  CHECK(metadata.get("X-Object-Meta-Color") == "blue");
  CHECK(metadata.get("x-object-meta-color") == std::nullopt);
  CHECK(metadata.raw().size() == 8);
}

TEST_CASE("read_object_metadata: a .ts file has no data fields")
{
  TempDir dir;
  const auto file = make_file(dir, "1795332048.00000.ts");
  write_swift_metadata(file, load_vector("swift_ts"), md5_of_vector("swift_ts"));

  const auto metadata = read_object_metadata(file);
  CHECK(metadata.timestamp() == "1795332048.00000");
  CHECK(metadata.etag() == std::nullopt);
  CHECK(metadata.content_length() == std::nullopt);
  CHECK(metadata.content_type() == std::nullopt);
}

TEST_CASE("read_object_metadata: metadata split over several xattrs")
{
  TempDir dir;
  SECTION("a 70,000-byte value: the pickle Swift would split in two chunks")
  {
    // ext4 without ea_inode (this machine kind) holds about 4 KiB of xattrs
    // per inode, so a 70 KB value cannot be stored here at all (Swift's own
    // write_metadata fails too). The chunk walk is covered by the small
    // chunks below; the big value's pickle is parsed directly.
    const auto metadata = hlm::diskfile::ObjectMetadata(
      hlm::diskfile::parse_metadata_pickle(load_vector("big")));
    CHECK(metadata.get("X-Object-Meta-Big") == std::string(70000, 'x'));
  }
  SECTION("small chunks: the reader does not assume the chunk size")
  {
    const auto file = make_file(dir, "small.data");
    write_swift_metadata(file, load_vector("swift_data"), md5_of_vector("swift_data"), 100);
    CHECK(read_object_metadata(file).etag() == "900150983cd24fb0d6963f7d28e17f72");
  }
  SECTION("a missing chunk ends the sequence, as in Swift")
  {
    const auto file = make_file(dir, "gap.data");
    const auto pickle = load_vector("swift_data");
    set_xattr(file, "user.swift.metadata", pickle.substr(0, 100));
    set_xattr(file, "user.swift.metadata2", pickle.substr(100));
    const auto message = error_of(file);
    CHECK_THAT(message, Catch::Contains("gap.data"));
    CHECK_THAT(message, Catch::Contains("truncated"));
  }
}

TEST_CASE("read_object_metadata: checksum")
{
  TempDir dir;
  const auto file = make_file(dir, "1.data");
  const auto pickle = load_vector("swift_data");
  SECTION("absent, as on files older than checksums")
  {
    set_xattr(file, "user.swift.metadata", pickle);
    CHECK(read_object_metadata(file).content_length() == 3u);
  }
  SECTION("empty counts as absent")
  {
    write_swift_metadata(file, pickle, "");
    CHECK(read_object_metadata(file).content_length() == 3u);
  }
  SECTION("wrong")
  {
    write_swift_metadata(file, pickle, md5_of_vector("swift_ts"));
    CHECK_THROWS_AS(read_object_metadata(file), hlm::InputError);
    const auto message = error_of(file);
    CHECK_THAT(message, Catch::Contains("checksum mismatch"));
    CHECK_THAT(message, Catch::Contains("1.data"));
    CHECK_THAT(message, Catch::Contains(md5_of_vector("swift_data")));
  }
  SECTION("upper-case hex does not match, as in Swift")
  {
    auto upper = md5_of_vector("swift_data");
    for (auto& c : upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    write_swift_metadata(file, pickle, upper);
    CHECK_THAT(error_of(file), Catch::Contains("checksum mismatch"));
  }
}

TEST_CASE("read_object_metadata: files without usable metadata")
{
  TempDir dir;
  SECTION("no xattr")
  {
    const auto file = make_file(dir, "plain.data");
    CHECK_THROWS_AS(read_object_metadata(file), hlm::Error);
    CHECK_THAT(error_of(file), Catch::Equals("no Swift metadata on \"" + file.string() + "\""));
  }
  SECTION("no file")
  {
    const auto file = dir.path() / "missing.data";
    const auto message = error_of(file);
    CHECK_THAT(message, Catch::Contains("missing.data"));
    CHECK_THAT(message, Catch::Contains("No such file or directory"));
  }
  SECTION("not a pickle")
  {
    const auto file = make_file(dir, "junk.data");
    set_xattr(file, "user.swift.metadata", "{\"name\": \"/a/c/o\"}");
    CHECK_THROWS_AS(read_object_metadata(file), hlm::InputError);
    const auto message = error_of(file);
    CHECK_THAT(message, Catch::Contains("junk.data"));
    CHECK_THAT(message, Catch::Contains("metadata pickle: unknown opcode 0x7b"));
  }
  SECTION("a hostile pickle")
  {
    const auto file = make_file(dir, "evil.data");
    set_xattr(file, "user.swift.metadata", load_vector("os_system"));
    CHECK_THAT(error_of(file), Catch::Contains("unsupported global"));
  }
}

TEST_CASE("ObjectMetadata: validation of the required fields")
{
  const MetadataMap minimal = {{"name", "/a/c/o"}, {"X-Timestamp", "1.00000"}};
  CHECK(ObjectMetadata(minimal).name() == "/a/c/o");

  auto without_name = minimal;
  without_name.erase("name");
  CHECK_THROWS_WITH(ObjectMetadata(without_name), Catch::Contains("no \"name\""));
  auto without_timestamp = minimal;
  without_timestamp.erase("X-Timestamp");
  CHECK_THROWS_AS(ObjectMetadata(without_timestamp), hlm::InputError);

  auto with_length = [&](const std::string& length) {
    auto map = minimal;
    map["Content-Length"] = length;
    return ObjectMetadata(map);
  };
  CHECK(with_length("0").content_length() == 0u);
  CHECK(with_length("18446744073709551615").content_length() == 18446744073709551615u);
  for (const std::string bad :
       {"", "-1", "+1", " 1", "1 ", "12a", "0x10", "18446744073709551616"}) {
    INFO("Content-Length \"" << bad << "\"");
    CHECK_THROWS_AS(with_length(bad), hlm::InputError);
  }
}

namespace {

using hlm::diskfile::MetadataReader;

// A directory on /dev/shm: this machine kind's ext4 holds about 4 KiB of
// xattrs per inode, a tmpfs (Linux 6.6 and later) a 64 KiB value, as an
// object server's XFS does.
class TmpfsDir
{
public:
  TmpfsDir()
  {
    std::string pattern = "/dev/shm/hlm-test-xattr-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
      throw std::runtime_error("mkdtemp on /dev/shm failed: " + std::string(std::strerror(errno)));
    }
    m_path = pattern;
  }
  ~TmpfsDir()
  {
    std::error_code ignored;
    fs::remove_all(m_path, ignored);
  }
  TmpfsDir(const TmpfsDir&) = delete;
  TmpfsDir& operator=(const TmpfsDir&) = delete;

  const fs::path&
  path() const
  {
    return m_path;
  }

private:
  fs::path m_path;
};

// A pickle of exactly `size` bytes naming /AUTH_test/c/o, padded with an
// X-Object-Meta-Pad value.
std::string
pickle_of_size(std::size_t size)
{
  const std::map<std::string, std::string> base = {{"name", "/AUTH_test/c/o"},
                                                   {"X-Timestamp", "1795332046.73390"},
                                                   {"Content-Length", "3"},
                                                   {"X-Object-Meta-Pad", ""}};
  const std::size_t empty = hlm::test::pickle_str_dict(base).size();
  REQUIRE(size >= empty);
  auto values = base;
  values["X-Object-Meta-Pad"] = std::string(size - empty, 'p');
  auto pickle = hlm::test::pickle_str_dict(values);
  REQUIRE(pickle.size() == size);
  return pickle;
}

std::string
md5_hex(const std::string& bytes)
{
  return hlm::to_hex(hlm::md5(bytes));
}

} // namespace

TEST_CASE("MetadataReader: Swift's usual file costs two getxattr calls")
{
  TempDir dir;
  const auto file = make_file(dir, "1795332046.73390.data");
  write_swift_metadata(file, load_vector("swift_data"), md5_of_vector("swift_data"));
  MetadataReader reader;
  CHECK(reader.read(file.string()).etag() == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(reader.xattr_reads() == 2);
  CHECK(reader.read(file.string()).content_length() == 3u);
  CHECK(reader.xattr_reads() == 4);
}

TEST_CASE("MetadataReader: Swift's 65,536-byte chunks")
{
  TmpfsDir dir;
  const auto file = dir.path() / "1795332046.73390.data";
  std::ofstream(file) << "abc";
  SECTION("a pickle of exactly 65,536 bytes: the next chunk is probed")
  {
    const auto pickle = pickle_of_size(65536);
    REQUIRE(try_write_swift_metadata(file, pickle, md5_hex(pickle)) == 0);
    MetadataReader reader;
    const auto metadata = reader.read(file.string());
    CHECK(metadata.get("X-Object-Meta-Pad")->size() > 65000);
    // chunk 0 (ERANGE, its size, its value), chunk 1 (none), checksum
    CHECK(reader.xattr_reads() == 5);
    // The buffer now holds a whole chunk.
    CHECK(reader.read(file.string()).name() == "/AUTH_test/c/o");
    CHECK(reader.xattr_reads() == 5 + 3); // chunk 0, chunk 1 (none), checksum
    CHECK(read_object_metadata(file).name() == "/AUTH_test/c/o");
  }
  SECTION("one byte more: two chunks, the second short")
  {
    const auto pickle = pickle_of_size(65537);
    REQUIRE(try_write_swift_metadata(file, pickle, md5_hex(pickle)) == 0);
    MetadataReader reader;
    CHECK(reader.read(file.string()).raw() == hlm::diskfile::parse_metadata_pickle(pickle));
    CHECK(reader.xattr_reads() == 5); // chunk 0 (ERANGE, size, value), chunk 1, checksum
    CHECK(reader.read(file.string()).raw() == hlm::diskfile::parse_metadata_pickle(pickle));
    CHECK(reader.xattr_reads() == 5 + 3); // chunk 0, chunk 1, checksum
  }
  SECTION("three chunks; the test vector with a 70,000-byte value")
  {
    const auto pickle = pickle_of_size(2 * 65536 + 100);
    REQUIRE(try_write_swift_metadata(file, pickle, md5_hex(pickle)) == 0);
    MetadataReader reader;
    CHECK(reader.read(file.string()).name() == "/AUTH_test/c/o");
    CHECK(reader.xattr_reads() == 6); // chunk 0 (ERANGE, size, value), 1, 2, checksum
    CHECK(reader.read(file.string()).name() == "/AUTH_test/c/o");
    CHECK(reader.xattr_reads() == 6 + 4);
    const auto big = load_vector("big");
    fs::remove(file);
    std::ofstream(file) << "abc";
    REQUIRE(try_write_swift_metadata(file, big, md5_of_vector("big")) == 0);
    CHECK(reader.read(file.string()).get("X-Object-Meta-Big") == std::string(70000, 'x'));
  }
  SECTION("a short first chunk and a checksum of more: read on, as Swift does")
  {
    const auto pickle = pickle_of_size(300);
    write_swift_metadata(file, pickle, md5_hex(pickle), 100);
    MetadataReader reader;
    CHECK(reader.read(file.string()).name() == "/AUTH_test/c/o");
    // chunk 0, checksum (no match yet), chunks 1 and 2, chunk 3 (none)
    CHECK(reader.xattr_reads() == 5);
  }
}

TEST_CASE("MetadataReader: without a checksum the next chunk is probed")
{
  TempDir dir;
  const auto file = make_file(dir, "1.data");
  set_xattr(file, "user.swift.metadata", load_vector("swift_data"));
  MetadataReader reader;
  CHECK(reader.read(file.string()).content_length() == 3u);
  CHECK(reader.xattr_reads() == 3); // chunk 0, checksum (none), chunk 1 (none)
}

TEST_CASE("MetadataReader: chunk size as a parameter, scaled-down Swift chunks")
{
  TempDir dir;
  const auto pickle = load_vector("swift_data");
  REQUIRE(pickle.size() > 200);
  const auto file = make_file(dir, "1.data");
  write_swift_metadata(file, pickle, md5_of_vector("swift_data"), 100);
  MetadataReader reader(100);
  CHECK(reader.read(file.string()).etag() == "900150983cd24fb0d6963f7d28e17f72");
  const auto chunks = (pickle.size() + 99) / 100 + (pickle.size() % 100 == 0 ? 1 : 0);
  CHECK(reader.xattr_reads() == chunks + 1);
}

TEST_CASE("MetadataReader: a value larger than the buffer falls back to a size query")
{
  TempDir dir;
  const auto pickle = load_vector("swift_data");
  const auto file = make_file(dir, "1.data");
  SECTION("a chunk (ERANGE)")
  {
    write_swift_metadata(file, pickle, md5_of_vector("swift_data"));
    MetadataReader reader(64);
    CHECK(reader.read(file.string()).etag() == "900150983cd24fb0d6963f7d28e17f72");
    // chunk 0 (ERANGE), its size, its value, checksum
    CHECK(reader.xattr_reads() == 4);
  }
  SECTION("a checksum longer than any MD5 is read whole and reported")
  {
    const std::string long_checksum = md5_of_vector("swift_data") + std::string(100, 'f');
    write_swift_metadata(file, pickle, long_checksum);
    MetadataReader reader;
    try {
      reader.read(file.string());
      FAIL("no checksum mismatch");
    } catch (const hlm::InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains("checksum mismatch"));
      CHECK_THAT(e.what(), Catch::Contains("stored \"" + long_checksum + "\""));
    }
  }
}

TEST_CASE("MetadataReader: the buffer grows to the largest value seen, not beyond")
{
  TempDir dir;
  const auto small = make_file(dir, "small.data");
  write_swift_metadata(small, load_vector("swift_data"), md5_of_vector("swift_data"));
  const auto large = make_file(dir, "large.data");
  const auto pickle = pickle_of_size(3000); // more than the first 1 KiB buffer
  write_swift_metadata(large, pickle, md5_hex(pickle));
  MetadataReader reader;
  CHECK(reader.read(small.string()).content_length() == 3u);
  CHECK(reader.xattr_reads() == 2);
  CHECK(reader.read(large.string()).get("X-Object-Meta-Pad")->size() > 2000);
  CHECK(reader.xattr_reads() == 2 + 4); // chunk 0 (ERANGE, size, value), checksum
  CHECK(reader.read(large.string()).raw() == hlm::diskfile::parse_metadata_pickle(pickle));
  CHECK(reader.xattr_reads() == 6 + 2);
  CHECK(reader.read(small.string()).content_length() == 3u);
  CHECK(reader.xattr_reads() == 8 + 2);
}

TEST_CASE("MetadataReader: one reader, files good and bad in turn")
{
  TempDir dir;
  const auto pickle = load_vector("swift_data");
  const auto good = make_file(dir, "good.data");
  write_swift_metadata(good, pickle, md5_of_vector("swift_data"));
  const auto mismatch = make_file(dir, "mismatch.data");
  write_swift_metadata(mismatch, pickle, md5_of_vector("swift_ts"));
  const auto plain = make_file(dir, "plain.data");
  const auto ts = make_file(dir, "1795332048.00000.ts");
  write_swift_metadata(ts, load_vector("swift_ts"), md5_of_vector("swift_ts"));

  MetadataReader reader;
  CHECK(reader.read(good.string()).content_length() == 3u);
  CHECK_THROWS_WITH(reader.read(mismatch.string()), Catch::Contains("checksum mismatch"));
  CHECK_THROWS_WITH(reader.read(plain.string()),
                    Catch::Equals("no Swift metadata on \"" + plain.string() + "\""));
  CHECK(reader.read(ts.string()).content_length() == std::nullopt);
  CHECK(reader.read(good.string()).content_length() == 3u);
}

TEST_CASE("MetadataReader: file names with odd bytes")
{
  TempDir dir;
  const auto file = make_file(dir, std::string("odd \n\xff name.data"));
  write_swift_metadata(file, load_vector("swift_data"), md5_of_vector("swift_ts"));
  MetadataReader reader;
  CHECK_THROWS_WITH(reader.read(file.string()),
                    Catch::Contains("on \"" + file.string() + "\": stored"));
  fs::remove(file);
  std::ofstream(file) << "abc";
  write_swift_metadata(file, load_vector("swift_data"), md5_of_vector("swift_data"));
  CHECK(reader.read(file.string()).content_length() == 3u);
}

TEST_CASE("MetadataReader::read_fields: what read() gives, checks and errors alike")
{
  TempDir dir;
  const auto data = make_file(dir, "1795332046.73390.data");
  write_swift_metadata(data, load_vector("swift_data"), md5_of_vector("swift_data"));
  const auto ts = make_file(dir, "1795332048.00000.ts");
  write_swift_metadata(ts, load_vector("swift_ts"), md5_of_vector("swift_ts"));
  const auto mismatch = make_file(dir, "mismatch.data");
  write_swift_metadata(mismatch, load_vector("swift_data"), md5_of_vector("swift_ts"));
  const auto plain = make_file(dir, "plain.data");
  const auto garbage = make_file(dir, "garbage.data");
  set_xattr(garbage, "user.swift.metadata", "not a pickle");

  MetadataReader reader;
  const auto expected = read_object_metadata(data);
  const auto& fields = reader.read_fields(data.string());
  CHECK(fields.name == expected.name());
  CHECK(fields.timestamp == expected.timestamp());
  CHECK(fields.etag == expected.etag());
  CHECK(fields.content_length == expected.content_length());
  CHECK(reader.xattr_reads() == 2);

  const auto& tombstone = reader.read_fields(ts.string());
  CHECK(tombstone.timestamp == "1795332048.00000");
  CHECK_FALSE(tombstone.etag);
  CHECK_FALSE(tombstone.content_length);

  for (const auto& bad : {mismatch, plain, garbage}) {
    INFO(bad.string());
    std::string expected_error;
    try {
      read_object_metadata(bad);
    } catch (const hlm::Error& e) {
      expected_error = e.what();
    }
    REQUIRE_FALSE(expected_error.empty());
    CHECK_THROWS_WITH(reader.read_fields(bad.string()), Catch::Equals(expected_error));
  }
  CHECK(reader.read_fields(data.string()).name == expected.name());
}

TEST_CASE("MetadataReader::read_fields: required fields and a bad Content-Length")
{
  TempDir dir;
  const auto file = make_file(dir, "1.data");
  MetadataReader reader;
  SECTION("no X-Timestamp")
  {
    const auto pickle = hlm::test::pickle_str_dict({{"name", "/a/c/o"}});
    write_swift_metadata(file, pickle, md5_hex(pickle));
    CHECK_THROWS_WITH(reader.read_fields(file.string()),
                      Catch::Contains("Swift metadata has no \"X-Timestamp\""));
  }
  SECTION("a Content-Length that is no number")
  {
    const auto pickle = hlm::test::pickle_str_dict(
      {{"name", "/a/c/o"}, {"X-Timestamp", "1.00000"}, {"Content-Length", "-1"}});
    write_swift_metadata(file, pickle, md5_hex(pickle));
    CHECK_THROWS_WITH(reader.read_fields(file.string()),
                      Catch::Contains("bad Content-Length \"-1\""));
  }
}
