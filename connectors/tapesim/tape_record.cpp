#include <hlm/util/error.hpp>
#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>
#include <hlm/util/percent.hpp>

#include <connectors/tapesim/tape_record.hpp>

#include <fmt/format.h>

#include <limits>

namespace hlm::connector::tapesim {

namespace {

constexpr std::string_view k_magic = "HLMT";
// magic, version, header_length: enough to know how much more to read.
constexpr std::size_t k_prefix_length = 4 + 2 + 4;
constexpr std::size_t k_digest_length = 16;

void
put_uint(std::string& out, std::uint64_t value, int bytes)
{
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out += static_cast<char>((value >> shift) & 0xff);
  }
}

void
put_string(std::string& out, std::string_view value, std::string_view what)
{
  if (value.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw InputError(fmt::format("tape record: {} of {} bytes does not fit", what, value.size()));
  }
  put_uint(out, value.size(), 4);
  out += value;
}

// Reads fields front to back; every read past the end is an InputError.
class Reader
{
public:
  explicit Reader(std::string_view bytes)
    : m_bytes(bytes)
  {
  }

  std::string_view
  take(std::size_t n, std::string_view what)
  {
    if (n > m_bytes.size() - m_at) {
      throw InputError(fmt::format("tape record header ends inside its {}", what));
    }
    const auto field = m_bytes.substr(m_at, n);
    m_at += n;
    return field;
  }

  std::uint64_t
  uint(int bytes, std::string_view what)
  {
    std::uint64_t value = 0;
    for (const char c : take(static_cast<std::size_t>(bytes), what)) {
      value = (value << 8) | static_cast<unsigned char>(c);
    }
    return value;
  }

  std::string
  string(std::string_view what)
  {
    const auto length = uint(4, what);
    return std::string(take(static_cast<std::size_t>(length), what));
  }

  std::size_t
  left() const
  {
    return m_bytes.size() - m_at;
  }

private:
  std::string_view m_bytes;
  std::size_t m_at = 0;
};

// Checks magic and version; returns header_length.
std::uint64_t
parse_prefix(Reader& reader)
{
  if (reader.take(k_magic.size(), "magic") != k_magic) {
    throw InputError("no tape record header here (bad magic)");
  }
  const auto version = reader.uint(2, "version");
  if (version != k_tape_record_version) {
    throw InputError(fmt::format("tape record header version {} (this reader knows {})",
                                 version,
                                 k_tape_record_version));
  }
  const auto length = reader.uint(4, "length");
  if (length < k_prefix_length + k_digest_length || length > k_max_header_length) {
    throw InputError(fmt::format("tape record header length {} out of bounds", length));
  }
  return length;
}

} // namespace

std::string
encode_header(const TapeRecordHeader& header)
{
  if (header.data_md5.size() != 2 * k_digest_length) {
    throw InputError(
      fmt::format("tape record: data MD5 \"{}\" is not 32 hex digits", header.data_md5));
  }
  std::string body;
  put_string(body, header.object, "object name");
  put_string(body, header.data_file, "data file name");
  put_uint(body, header.data_length, 8);
  for (std::size_t i = 0; i < header.data_md5.size(); i += 2) {
    const int high = hex_digit_value(header.data_md5[i]);
    const int low = hex_digit_value(header.data_md5[i + 1]);
    if (high < 0 || low < 0) {
      throw InputError(
        fmt::format("tape record: data MD5 \"{}\" is not 32 hex digits", header.data_md5));
    }
    body += static_cast<char>(high * 16 + low);
  }
  put_uint(body, header.xattrs.size(), 4);
  for (const auto& [name, value] : header.xattrs) {
    put_string(body, name, "xattr name");
    put_string(body, value, "xattr value");
  }

  const std::uint64_t length = k_prefix_length + body.size() + k_digest_length;
  if (length > k_max_header_length) {
    throw InputError(
      fmt::format("tape record header of {} bytes is larger than {}", length, k_max_header_length));
  }
  std::string out(k_magic);
  put_uint(out, k_tape_record_version, 2);
  put_uint(out, length, 4);
  out += body;
  const auto checksum = md5(out);
  out.append(reinterpret_cast<const char*>(checksum.data()), checksum.size());
  return out;
}

TapeRecordHeader
decode_header(std::string_view bytes)
{
  Reader reader(bytes);
  const auto length = parse_prefix(reader);
  if (length != bytes.size()) {
    throw InputError(
      fmt::format("tape record header says {} bytes, {} given", length, bytes.size()));
  }
  const auto covered = bytes.substr(0, bytes.size() - k_digest_length);
  const auto stored = bytes.substr(covered.size());
  const auto computed = md5(covered);
  if (stored != std::string_view(reinterpret_cast<const char*>(computed.data()), computed.size())) {
    throw InputError("tape record header checksum mismatch (the header is corrupt)");
  }

  TapeRecordHeader header;
  header.object = reader.string("object name");
  header.data_file = reader.string("data file name");
  header.data_length = reader.uint(8, "data length");
  const auto digest = reader.take(k_digest_length, "data MD5");
  header.data_md5 = to_hex(
    std::span(reinterpret_cast<const std::uint8_t*>(digest.data()), digest.size()));
  const auto count = reader.uint(4, "xattr count");
  for (std::uint64_t i = 0; i < count; ++i) {
    auto name = reader.string("xattr name");
    auto value = reader.string("xattr value");
    header.xattrs.emplace_back(std::move(name), std::move(value));
  }
  if (reader.left() != k_digest_length) {
    throw InputError(fmt::format("tape record header has {} unexpected bytes before its checksum",
                                 reader.left() - k_digest_length));
  }
  return header;
}

TapeRecordHeader
read_header(const File& cartridge, std::uint64_t position, std::uint64_t& length)
{
  const auto where = [&] {
    return fmt::format("cartridge \"{}\" at byte {}", cartridge.path().string(), position);
  };
  try {
    const auto prefix = cartridge.read(position, k_prefix_length);
    Reader reader(prefix);
    length = parse_prefix(reader);
    return decode_header(cartridge.read(position, length));
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", where(), e.what()));
  }
}

} // namespace hlm::connector::tapesim
