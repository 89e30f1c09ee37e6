#pragma once

#include <connectors/tapesim/file_io.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm::connector::tapesim {

// The header tapesim writes on a cartridge just before each object's bytes,
// so that a copy describes itself (as LTFS and OTFormat records do) and a
// lost .data file can be recreated from the cartridge alone, byte for byte:
// its name (which carries Swift's timestamp), its data and its xattrs.
//
// Format, version 1; integers are unsigned big-endian, strings are raw
// bytes preceded by their length (u32):
//
//   magic          4  "HLMT"
//   version        u16  1
//   header_length  u32  bytes of the whole header, this field's record
//                       included (magic to checksum); the data starts there
//   object         str  Swift name, "/account/container/object"
//   data_file      str  the .data file's name, e.g. "1795332046.73390.data"
//   data_length    u64  bytes of data that follow the header
//   data_md5       16   MD5 of those bytes
//   xattr_count    u32
//   xattrs         xattr_count × (name str, value str): every user.swift.*
//                  xattr of the disk file as stored (user.swift.metadata,
//                  user.swift.metadata1…, user.swift.metadata_checksum),
//                  never re-serialized
//   checksum       16   MD5 of every header byte before it
//
// A reader that finds another magic, another version, a length out of
// bounds or a wrong checksum refuses the header.
struct TapeRecordHeader
{
  std::string object;
  std::string data_file;
  std::uint64_t data_length = 0;
  std::string data_md5;                                    // 32 lower-case hex digits
  std::vector<std::pair<std::string, std::string>> xattrs; // name, raw value
};

inline constexpr std::uint16_t k_tape_record_version = 1;
// Headers larger than this are refused as corrupt (xattrs of a Swift
// object stay far below: metadata is split every 64 KiB and rarely spans
// more than a few pieces).
inline constexpr std::uint64_t k_max_header_length = std::uint64_t{16} << 20;

// The header's bytes. Throws hlm::InputError when data_md5 is not 32 hex
// digits or a string does not fit its length field.
std::string encode_header(const TapeRecordHeader& header);

// Parses a whole header (exactly header_length bytes). Throws
// hlm::InputError saying what is wrong when the bytes are not a valid
// version 1 header.
TapeRecordHeader decode_header(std::string_view bytes);

// Reads and parses the header at `position` of `cartridge`; `length` gets
// its length (the data follows at position + length). Throws
// hlm::InputError naming the cartridge and position for a bad header,
// hlm::Error when the cartridge cannot be read.
TapeRecordHeader read_header(const File& cartridge, std::uint64_t position, std::uint64_t& length);

} // namespace hlm::connector::tapesim
