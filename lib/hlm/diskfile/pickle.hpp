#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace hlm::diskfile {

// Swift object metadata as stored on disk: header name -> value, both raw
// bytes exactly as Swift wrote them (see metadata.hpp for what they mean).
using MetadataMap = std::map<std::string, std::string>;

// Decodes the pickle Swift stores in the user.swift.metadata xattrs into a
// map, without evaluating anything.
//
// Accepts only a dict whose keys and values are byte strings or unicode
// strings, in the shapes Swift has written:
//   * protocol 2 from Python 3 Swift: each bytes value is
//     `_codecs.encode(<str>, 'latin1')` (GLOBAL + REDUCE) and b'' is
//     `__builtin__.bytes()` (also spelled `builtins.bytes`);
//   * protocol 2 from Python 2 Swift: SHORT_BINSTRING / BINSTRING, and
//     unicode strings (BINUNICODE) from old writers;
//   * protocols 1 to 5 with byte strings (SHORT_BINBYTES, BINBYTES[8],
//     FRAME, MEMOIZE), in case a future Swift raises its protocol.
// Memo references (BINPUT/BINGET and their long forms) are resolved. Text
// opcodes of protocol 0 (STRING, UNICODE, PUT, GET, ...) are not supported.
//
// A unicode key or value becomes its UTF-8 bytes; `_codecs.encode(s,
// 'latin1')` becomes the code points of s as bytes, so a UTF-8 object name
// comes back as its original UTF-8 bytes. If a key occurs twice the later
// value wins, as in Python.
//
// Throws hlm::InputError, with the byte offset of the offending opcode, for
// anything else: an unknown or unsupported opcode, any other global or call,
// a type mismatch, stack underflow, an undefined memo index, truncated input,
// a length larger than the remaining input, invalid UTF-8, bytes after STOP,
// or a decoded size larger than the input (memo-reference amplification).
// Memory use is bounded by a small multiple of bytes.size().
MetadataMap parse_metadata_pickle(std::string_view bytes);

// parse_metadata_pickle() for many pickles, without a map or a copy of any
// key or value: the entries are views into the pickle's bytes, or into the
// parser for `_codecs.encode` values that are not ASCII. A parse allocates
// nothing once the parser's buffers have grown to the input's needs. Not
// thread-safe.
class MetadataPickleParser
{
public:
  MetadataPickleParser();
  ~MetadataPickleParser();
  MetadataPickleParser(const MetadataPickleParser&) = delete;
  MetadataPickleParser& operator=(const MetadataPickleParser&) = delete;

  // Accepts and rejects what parse_metadata_pickle() does, with the same
  // errors; after an error there are no entries. The views of the entries
  // are valid until the next parse() and while `bytes` is.
  void parse(std::string_view bytes);

  // The value stored under `key` (the later one when a key occurs twice, as
  // in Python), or nullopt.
  std::optional<std::string_view> find(std::string_view key) const;

  // Each key and value in the order the pickle set them, duplicates
  // included.
  std::span<const std::pair<std::string_view, std::string_view>> entries() const;

  struct Buffers; // pickle.cpp

private:
  std::unique_ptr<Buffers> m_buffers;
};

} // namespace hlm::diskfile
