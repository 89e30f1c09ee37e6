#include <hlm/diskfile/pickle.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hlm::diskfile {

namespace {

// Opcode bytes from CPython's Lib/pickle.py. Only the ones this decoder
// handles are listed; every other byte is rejected.
enum class Op : std::uint8_t {
  mark = '(',
  stop = '.',
  reduce = 'R',
  binstring = 'T',
  short_binstring = 'U',
  binunicode = 'X',
  binbytes = 'B',
  short_binbytes = 'C',
  global = 'c',
  dict = 'd',
  empty_dict = '}',
  binget = 'h',
  long_binget = 'j',
  binput = 'q',
  long_binput = 'r',
  setitem = 's',
  tuple = 't',
  empty_tuple = ')',
  setitems = 'u',
  proto = 0x80,
  tuple1 = 0x85,
  tuple2 = 0x86,
  tuple3 = 0x87,
  short_binunicode = 0x8c,
  binunicode8 = 0x8d,
  binbytes8 = 0x8e,
  memoize = 0x94,
  frame = 0x95,
};

constexpr unsigned k_highest_protocol = 5;

// Names of all pickle opcodes, so that a rejected input says which
// construct it used ("INST", "BUILD") rather than only a byte value. Empty
// for bytes that are no opcode at all.
std::string_view
opcode_name(std::uint8_t op) // NOLINT(readability-function-size): a name table, one case per opcode
{
  switch (op) {
  case '(':
    return "MARK";
  case '.':
    return "STOP";
  case '0':
    return "POP";
  case '1':
    return "POP_MARK";
  case '2':
    return "DUP";
  case 'F':
    return "FLOAT";
  case 'I':
    return "INT";
  case 'J':
    return "BININT";
  case 'K':
    return "BININT1";
  case 'L':
    return "LONG";
  case 'M':
    return "BININT2";
  case 'N':
    return "NONE";
  case 'P':
    return "PERSID";
  case 'Q':
    return "BINPERSID";
  case 'R':
    return "REDUCE";
  case 'S':
    return "STRING";
  case 'T':
    return "BINSTRING";
  case 'U':
    return "SHORT_BINSTRING";
  case 'V':
    return "UNICODE";
  case 'X':
    return "BINUNICODE";
  case 'a':
    return "APPEND";
  case 'b':
    return "BUILD";
  case 'c':
    return "GLOBAL";
  case 'd':
    return "DICT";
  case '}':
    return "EMPTY_DICT";
  case 'e':
    return "APPENDS";
  case 'g':
    return "GET";
  case 'h':
    return "BINGET";
  case 'i':
    return "INST";
  case 'j':
    return "LONG_BINGET";
  case 'l':
    return "LIST";
  case ']':
    return "EMPTY_LIST";
  case 'o':
    return "OBJ";
  case 'p':
    return "PUT";
  case 'q':
    return "BINPUT";
  case 'r':
    return "LONG_BINPUT";
  case 's':
    return "SETITEM";
  case 't':
    return "TUPLE";
  case ')':
    return "EMPTY_TUPLE";
  case 'u':
    return "SETITEMS";
  case 'G':
    return "BINFLOAT";
  case 'B':
    return "BINBYTES";
  case 'C':
    return "SHORT_BINBYTES";
  case 0x80:
    return "PROTO";
  case 0x81:
    return "NEWOBJ";
  case 0x82:
    return "EXT1";
  case 0x83:
    return "EXT2";
  case 0x84:
    return "EXT4";
  case 0x85:
    return "TUPLE1";
  case 0x86:
    return "TUPLE2";
  case 0x87:
    return "TUPLE3";
  case 0x88:
    return "NEWTRUE";
  case 0x89:
    return "NEWFALSE";
  case 0x8a:
    return "LONG1";
  case 0x8b:
    return "LONG4";
  case 0x8c:
    return "SHORT_BINUNICODE";
  case 0x8d:
    return "BINUNICODE8";
  case 0x8e:
    return "BINBYTES8";
  case 0x8f:
    return "EMPTY_SET";
  case 0x90:
    return "ADDITEMS";
  case 0x91:
    return "FROZENSET";
  case 0x92:
    return "NEWOBJ_EX";
  case 0x93:
    return "STACK_GLOBAL";
  case 0x94:
    return "MEMOIZE";
  case 0x95:
    return "FRAME";
  case 0x96:
    return "BYTEARRAY8";
  case 0x97:
    return "NEXT_BUFFER";
  case 0x98:
    return "READONLY_BUFFER";
  default:
    return {};
  }
}

// Error messages quote names taken from the input; keep control bytes and
// non-ASCII out of terminals and logs.
std::string
quoted(std::string_view s)
{
  constexpr std::size_t k_max_shown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < k_max_shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > k_max_shown) {
    out += "...";
  }
  out += '"';
  return out;
}

// Decodes one code point the way CPython's "utf-8" codec with the
// "surrogatepass" handler does (that is how pickle reads BINUNICODE):
// shortest form only, up to U+10FFFF, lone surrogates allowed.
std::optional<char32_t>
next_code_point(std::string_view s, std::size_t& i)
{
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t length = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    length = 2;
    cp = b0 & 0x1fu;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    cp = b0 & 0x0fu;
    if (b0 == 0xe0) {
      lo = 0xa0;
    }
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    cp = b0 & 0x07u;
    if (b0 == 0xf0) {
      lo = 0x90;
    } else if (b0 == 0xf4) {
      hi = 0x8f;
    }
  } else {
    return std::nullopt;
  }
  if (s.size() - i < length) {
    return std::nullopt;
  }
  for (std::size_t k = 1; k < length; ++k) {
    const unsigned char b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) {
      return std::nullopt;
    }
    cp = (cp << 6) | (b & 0x3fu);
  }
  i += length;
  return cp;
}

// The length of the leading run of ASCII bytes of `s`.
std::size_t
ascii_prefix(std::string_view s)
{
  std::size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) {
    ++i;
  }
  return i;
}

enum class Kind { unicode, bytes, tuple, dict, codecs_encode, bytes_type };

} // namespace

// A value on the unpickler stack or in the memo: a view, so that pushing,
// memo references (BINGET) and tuples cost no allocation and O(1) however
// large the value is.
struct PickleValue
{
  Kind kind = Kind::bytes;
  // unicode (UTF-8), bytes: in the input, or in Buffers::decoded.
  std::string_view text;
  // tuple: Buffers::tuple_items[first, first + count).
  std::size_t first = 0;
  std::size_t count = 0;
};

// What a MetadataPickleParser keeps from one parse to the next, so that a
// parse allocates nothing once the buffers have grown to the input's needs.
struct MetadataPickleParser::Buffers
{
  std::vector<PickleValue> stack;
  // Stack sizes at each open MARK, like CPython's metastack: values below
  // the innermost mark cannot be popped until the mark is consumed.
  std::vector<std::size_t> marks;
  // The memo: indices 0, 1, 2, ... as pickle assigns them, and a map for
  // any other order.
  std::vector<PickleValue> memo;
  std::unordered_map<std::uint64_t, PickleValue> sparse_memo;
  std::vector<PickleValue> tuple_items;
  // latin-1 decoded strings; reserved to the input's size before the first
  // is added, and never more (see reduce()), so views into it stay valid.
  std::string decoded;
  std::vector<std::pair<std::string_view, std::string_view>> entries;

  void
  clear()
  {
    stack.clear();
    marks.clear();
    memo.clear();
    sparse_memo.clear();
    tuple_items.clear();
    decoded.clear();
    entries.clear();
  }
};

namespace {

using Value = PickleValue;

std::string_view
kind_name(Kind kind)
{
  switch (kind) {
  case Kind::unicode:
    return "str";
  case Kind::bytes:
    return "bytes";
  case Kind::tuple:
    return "tuple";
  case Kind::dict:
    return "dict";
  case Kind::codecs_encode:
    return "_codecs.encode";
  case Kind::bytes_type:
    return "bytes type";
  }
  return "?";
}

Value
make_text(Kind kind, std::string_view text)
{
  return Value{kind, text, 0, 0};
}

class Unpickler
{
public:
  Unpickler(std::string_view input, MetadataPickleParser::Buffers& buffers)
    : m_input(input),
      m_stack(buffers.stack),
      m_marks(buffers.marks),
      m_buffers(buffers)
  {
    buffers.clear();
  }

  void
  run()
  {
    while (m_pos < m_input.size()) {
      m_op_offset = m_pos;
      const auto op = static_cast<std::uint8_t>(m_input[m_pos++]);
      if (step(op)) {
        finish();
        return;
      }
    }
    m_op_offset = m_input.size();
    fail("truncated: no STOP opcode");
  }

private:
  std::string_view m_input;
  std::size_t m_pos = 0;
  std::size_t m_op_offset = 0;
  std::vector<Value>& m_stack;
  std::vector<std::size_t>& m_marks;
  MetadataPickleParser::Buffers& m_buffers;
  // Swift stores exactly one dict (m_buffers.entries); every dict value on
  // the stack refers to it.
  bool m_have_dict = false;
  // Memo references let a small input name the same large value many times.
  // Swift's pickles never decode to more than their own size, so anything
  // beyond that is rejected rather than allowed to exhaust memory.
  std::size_t m_reduced_bytes = 0;
  std::size_t m_dict_bytes = 0;

  [[noreturn]] void
  fail(const std::string& what) const
  {
    throw InputError(fmt::format("metadata pickle: {} at offset {}", what, m_op_offset));
  }

  std::size_t
  remaining() const
  {
    return m_input.size() - m_pos;
  }

  std::string_view
  take(std::size_t n)
  {
    if (n > remaining()) {
      fail(fmt::format("truncated: {} needs {} more bytes, {} left",
                       opcode_name(static_cast<std::uint8_t>(m_input[m_op_offset])),
                       n,
                       remaining()));
    }
    const auto out = m_input.substr(m_pos, n);
    m_pos += n;
    return out;
  }

  std::uint64_t
  read_le(std::size_t width)
  {
    const auto raw = take(width);
    std::uint64_t value = 0;
    for (std::size_t i = width; i-- > 0;) {
      value = (value << 8) | static_cast<unsigned char>(raw[i]);
    }
    return value;
  }

  // Length-prefixed payloads: the length is checked against the input
  // before anything is allocated.
  std::string_view
  take_counted(std::size_t width)
  {
    return take_length(read_le(width));
  }

  std::string_view
  take_length(std::uint64_t length)
  {
    if (length > remaining()) {
      fail(fmt::format("length {} is larger than the remaining {} bytes", length, remaining()));
    }
    return take(static_cast<std::size_t>(length));
  }

  std::string_view
  read_line()
  {
    const auto end = m_input.find('\n', m_pos);
    if (end == std::string_view::npos) {
      fail("truncated: GLOBAL name has no newline");
    }
    const auto line = m_input.substr(m_pos, end - m_pos);
    m_pos = end + 1;
    return line;
  }

  std::size_t
  stack_floor() const
  {
    return m_marks.empty() ? 0 : m_marks.back();
  }

  void
  push(Value value)
  {
    m_stack.push_back(std::move(value));
  }

  Value
  pop()
  {
    if (m_stack.size() <= stack_floor()) {
      fail("stack underflow");
    }
    Value value = std::move(m_stack.back());
    m_stack.pop_back();
    return value;
  }

  const Value&
  top() const
  {
    if (m_stack.size() <= stack_floor()) {
      fail("stack underflow");
    }
    return m_stack.back();
  }

  // The values above the innermost mark, which is consumed; the caller
  // drops them from the stack (m_stack.resize(start)) when done with them.
  std::size_t
  pop_mark()
  {
    if (m_marks.empty()) {
      fail("no MARK to pop to");
    }
    const std::size_t start = m_marks.back();
    m_marks.pop_back();
    return start;
  }

  std::span<const Value>
  stack_from(std::size_t start) const
  {
    return std::span<const Value>(m_stack).subspan(start);
  }

  void
  push_unicode(std::string_view text)
  {
    // Metadata is nearly all ASCII: skip it a byte at a time, decode the rest.
    for (std::size_t i = ascii_prefix(text); i < text.size();) {
      if (!next_code_point(text, i)) {
        fail(fmt::format("invalid UTF-8 at byte {} of a str", i));
      }
    }
    push(make_text(Kind::unicode, text));
  }

  // The tuple of the stack's values from `start` up, which it replaces.
  void
  push_tuple_from(std::size_t start)
  {
    // Swift's tuples hold only strings, which also keeps them flat.
    const auto items = stack_from(start);
    for (const auto& item : items) {
      if (item.kind != Kind::unicode && item.kind != Kind::bytes) {
        fail(fmt::format("type mismatch: tuple item is a {}", kind_name(item.kind)));
      }
    }
    auto& store = m_buffers.tuple_items;
    const Value tuple{Kind::tuple, {}, store.size(), items.size()};
    store.insert(store.end(), items.begin(), items.end());
    m_stack.resize(start);
    push(tuple);
  }

  std::size_t
  memo_size() const
  {
    return m_buffers.memo.size() + m_buffers.sparse_memo.size();
  }

  void
  memo_put(std::uint64_t index)
  {
    auto& memo = m_buffers.memo;
    auto& sparse = m_buffers.sparse_memo;
    // Once an index is out of order the dense part stops growing, so no
    // index is in both.
    if (index < memo.size()) {
      memo[index] = top();
    } else if (index == memo.size() && sparse.empty()) {
      memo.push_back(top());
    } else {
      sparse.insert_or_assign(index, top());
    }
  }

  void
  memo_get(std::uint64_t index)
  {
    const auto& memo = m_buffers.memo;
    if (index < memo.size()) {
      push(memo[index]);
      return;
    }
    const auto it = m_buffers.sparse_memo.find(index);
    if (it == m_buffers.sparse_memo.end()) {
      fail(fmt::format("memo index {} is not defined", index));
    }
    push(it->second);
  }

  void
  push_global()
  {
    const auto module = read_line();
    const auto name = read_line();
    if (module == "_codecs" && name == "encode") {
      push(Value{Kind::codecs_encode, {}, {}});
    } else if ((module == "__builtin__" || module == "builtins") && name == "bytes") {
      push(Value{Kind::bytes_type, {}, {}});
    } else {
      fail(fmt::format("unsupported global {}",
                       quoted(std::string(module) + " " + std::string(name))));
    }
  }

  void
  reduce()
  {
    const Value args = pop();
    const Value callable = pop();
    if (args.kind != Kind::tuple) {
      fail(fmt::format("type mismatch: REDUCE arguments are a {}", kind_name(args.kind)));
    }
    const auto items =
      std::span<const Value>(m_buffers.tuple_items).subspan(args.first, args.count);
    if (callable.kind == Kind::bytes_type) {
      if (!items.empty()) {
        fail("bytes() called with arguments");
      }
      push(make_text(Kind::bytes, {}));
      return;
    }
    if (callable.kind != Kind::codecs_encode) {
      fail(fmt::format("type mismatch: REDUCE of a {}", kind_name(callable.kind)));
    }
    if (items.size() != 2 || items[0].kind != Kind::unicode || items[1].kind != Kind::unicode) {
      fail("_codecs.encode needs exactly (str, str)");
    }
    if (items[1].text != "latin1") {
      fail(fmt::format("_codecs.encode with unsupported encoding {}", quoted(items[1].text)));
    }
    const std::string_view text = items[0].text;
    m_reduced_bytes += text.size();
    if (m_reduced_bytes > m_input.size()) {
      fail("decoded strings are larger than the input");
    }
    if (ascii_prefix(text) == text.size()) {
      push(make_text(Kind::bytes, text)); // ASCII is its own latin-1
      return;
    }
    // Each decoded string is no longer than its UTF-8 text, and all of
    // those together fit in the input (checked above): with room for the
    // input's size the buffer never moves, so earlier views stay valid.
    auto& out = m_buffers.decoded;
    if (out.empty()) {
      out.reserve(m_input.size());
    }
    const std::size_t begin = out.size();
    for (std::size_t i = 0; i < text.size();) {
      // Validated when the str was pushed.
      const char32_t cp = *next_code_point(text, i);
      if (cp > 0xff) {
        fail(
          fmt::format("_codecs.encode: U+{:04X} is not latin-1", static_cast<std::uint32_t>(cp)));
      }
      out += static_cast<char>(static_cast<unsigned char>(cp));
    }
    push(make_text(Kind::bytes, std::string_view(out).substr(begin)));
  }

  std::string_view
  as_key_or_value(const Value& value, std::string_view role) const
  {
    if (value.kind != Kind::unicode && value.kind != Kind::bytes) {
      fail(fmt::format("type mismatch: dict {} is a {}", role, kind_name(value.kind)));
    }
    return value.text;
  }

  void
  set_items(std::span<const Value> items)
  {
    if (items.size() % 2 != 0) {
      fail("odd number of items for a dict");
    }
    for (std::size_t i = 0; i < items.size(); i += 2) {
      const auto key = as_key_or_value(items[i], "key");
      const auto value = as_key_or_value(items[i + 1], "value");
      m_dict_bytes += key.size() + value.size();
      if (m_dict_bytes > m_input.size()) {
        fail("decoded dict is larger than the input");
      }
      m_buffers.entries.emplace_back(key, value);
    }
  }

  void
  new_dict()
  {
    if (m_have_dict) {
      fail("more than one dict");
    }
    m_have_dict = true;
  }

  void
  require_dict_on_top() const
  {
    require_dict_below(m_stack.size());
  }

  // The value under the stack's values from `start` up must be the dict.
  void
  require_dict_below(std::size_t start) const
  {
    if (start <= stack_floor()) {
      fail("stack underflow");
    }
    const Value& target = m_stack[start - 1];
    if (target.kind != Kind::dict) {
      fail(fmt::format("type mismatch: setting items on a {}", kind_name(target.kind)));
    }
  }

  // Returns true on STOP.
  bool
  step(std::uint8_t byte) // NOLINT(readability-function-size): the opcode switch
  {
    switch (static_cast<Op>(byte)) {
    case Op::proto: {
      const auto version = read_le(1);
      if (m_op_offset != 0) {
        fail("PROTO after the first opcode");
      }
      if (version > k_highest_protocol) {
        fail(fmt::format("unsupported protocol {}", version));
      }
      return false;
    }
    case Op::frame: {
      // Framing only groups opcodes for buffered reads; the whole input is
      // already in memory.
      const auto length = read_le(8);
      if (length > remaining()) {
        fail(fmt::format("frame length {} is larger than the remaining {} bytes",
                         length,
                         remaining()));
      }
      return false;
    }
    case Op::empty_dict:
      new_dict();
      push(Value{Kind::dict, {}, 0, 0});
      return false;
    case Op::dict: {
      const auto start = pop_mark();
      new_dict();
      set_items(stack_from(start));
      m_stack.resize(start);
      push(Value{Kind::dict, {}, 0, 0});
      return false;
    }
    case Op::mark:
      m_marks.push_back(m_stack.size());
      return false;
    case Op::binunicode:
      push_unicode(take_counted(4));
      return false;
    case Op::short_binunicode:
      push_unicode(take_counted(1));
      return false;
    case Op::binunicode8:
      push_unicode(take_counted(8));
      return false;
    case Op::short_binstring:
    case Op::short_binbytes:
      push(make_text(Kind::bytes, take_counted(1)));
      return false;
    case Op::binstring: {
      // The only length field pickle declares as signed.
      const auto length = read_le(4);
      if (length > 0x7fffffff) {
        fail("negative BINSTRING length");
      }
      push(make_text(Kind::bytes, take_length(length)));
      return false;
    }
    case Op::binbytes:
      push(make_text(Kind::bytes, take_counted(4)));
      return false;
    case Op::binbytes8:
      push(make_text(Kind::bytes, take_counted(8)));
      return false;
    case Op::binput:
      memo_put(read_le(1));
      return false;
    case Op::long_binput:
      memo_put(read_le(4));
      return false;
    case Op::memoize:
      memo_put(memo_size());
      return false;
    case Op::binget:
      memo_get(read_le(1));
      return false;
    case Op::long_binget:
      memo_get(read_le(4));
      return false;
    case Op::global:
      push_global();
      return false;
    case Op::empty_tuple:
      push_tuple_from(m_stack.size());
      return false;
    case Op::tuple1:
    case Op::tuple2:
    case Op::tuple3: {
      const std::size_t n = byte - static_cast<std::size_t>(Op::tuple1) + 1;
      if (m_stack.size() < stack_floor() + n) {
        fail("stack underflow");
      }
      push_tuple_from(m_stack.size() - n);
      return false;
    }
    case Op::tuple:
      push_tuple_from(pop_mark());
      return false;
    case Op::reduce:
      reduce();
      return false;
    case Op::setitem: {
      const std::array<Value, 2> pair = [&] {
        const Value value = pop();
        return std::array<Value, 2>{pop(), value};
      }();
      require_dict_on_top();
      set_items(pair);
      return false;
    }
    case Op::setitems: {
      const auto start = pop_mark();
      require_dict_below(start);
      set_items(stack_from(start));
      m_stack.resize(start);
      return false;
    }
    case Op::stop:
      return true;
    }
    const auto name = opcode_name(byte);
    if (name.empty()) {
      fail(fmt::format("unknown opcode 0x{:02x}", byte));
    }
    fail(fmt::format("unsupported opcode {} (0x{:02x})", name, byte));
  }

  void
  finish() const
  {
    if (!m_marks.empty()) {
      fail("STOP with an open MARK");
    }
    if (m_stack.size() != 1) {
      fail(fmt::format("STOP with {} values on the stack, expected 1", m_stack.size()));
    }
    if (m_stack.back().kind != Kind::dict) {
      fail(fmt::format("type mismatch: result is a {}, expected a dict",
                       kind_name(m_stack.back().kind)));
    }
    if (m_pos != m_input.size()) {
      throw InputError(fmt::format("metadata pickle: {} trailing bytes after STOP at offset {}",
                                   m_input.size() - m_pos,
                                   m_pos));
    }
  }
};

} // namespace

MetadataPickleParser::MetadataPickleParser()
  : m_buffers(std::make_unique<Buffers>())
{
}

MetadataPickleParser::~MetadataPickleParser() = default;

void
MetadataPickleParser::parse(std::string_view bytes)
{
  try {
    Unpickler(bytes, *m_buffers).run();
  } catch (...) {
    m_buffers->entries.clear(); // no half a dict
    throw;
  }
}

std::optional<std::string_view>
MetadataPickleParser::find(std::string_view key) const
{
  const auto& entries = m_buffers->entries;
  // The last one wins, as in Python's dict.
  const auto it = std::find_if(entries.rbegin(), entries.rend(), [&](const auto& entry) {
    return entry.first == key;
  });
  if (it == entries.rend()) {
    return std::nullopt;
  }
  return it->second;
}

std::span<const std::pair<std::string_view, std::string_view>>
MetadataPickleParser::entries() const
{
  return m_buffers->entries;
}

MetadataMap
parse_metadata_pickle(std::string_view bytes)
{
  MetadataPickleParser parser;
  parser.parse(bytes);
  MetadataMap map;
  for (const auto& [key, value] : parser.entries()) {
    map.insert_or_assign(std::string(key), std::string(value));
  }
  return map;
}

} // namespace hlm::diskfile
