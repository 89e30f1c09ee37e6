#include <hlm/core/swift_timestamp.hpp>
#include <hlm/diskfile/diskfile.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>
#include <vector>

namespace hlm::diskfile {

namespace {

constexpr std::size_t k_hash_length = 32;
constexpr std::size_t k_suffix_length = 3;

bool
is_digit(char c)
{
  return c >= '0' && c <= '9';
}

bool
is_hex_digit(char c)
{
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool
all_of(std::string_view s, bool (*predicate)(char))
{
  return std::all_of(s.begin(), s.end(), predicate);
}

std::optional<std::uint64_t>
parse_number(std::string_view text, int base)
{
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

enum class Ext { data, tombstone, meta, durable };

struct OnDiskFile
{
  std::string name;
  Ext ext = Ext::data;
  SwiftTimestamp ts;
  std::optional<int> fragment_index; // .data under EC
  bool durable = false;              // <ts>#<frag>#d.data
  std::int64_t ctype_ticks = 0;      // .meta: content-type time, 0 if none
};

// "<ts>" optionally followed by one or two signed hex deltas in 10 us ticks
// (encode_timestamps(explicit=True)); only the first, the content-type
// time, matters to file selection.
bool
parse_meta_base(std::string_view base, OnDiskFile& file)
{
  const auto sign = base.find_first_of("+-");
  const auto ts = SwiftTimestamp::try_parse(base.substr(0, sign));
  if (!ts) {
    return false;
  }
  file.ts = *ts;
  std::int64_t previous = ts->ticks();
  for (std::size_t pos = sign, part = 0; pos != std::string_view::npos; ++part) {
    const auto next = base.find_first_of("+-", pos + 1);
    const auto digits = base.substr(pos + 1,
                                    next == std::string_view::npos ? std::string_view::npos
                                                                   : next - pos - 1);
    const auto delta = parse_number(digits, 16);
    if (part == 2 || !all_of(digits, is_hex_digit) || !delta
        || *delta >= static_cast<std::uint64_t>(SwiftTimestamp::k_max_ticks)) {
      return false;
    }
    const auto signed_delta = static_cast<std::int64_t>(*delta);
    const std::int64_t value = base[pos] == '+' ? previous + signed_delta : previous - signed_delta;
    if (value < 0 || value >= SwiftTimestamp::k_max_ticks) {
      return false;
    }
    if (part == 0) {
      file.ctype_ticks = value;
    }
    previous = value;
    pos = next;
  }
  return true;
}

bool
parse_data_base(std::string_view base, OnDiskFile& file)
{
  const auto hash1 = base.find('#');
  const auto ts = SwiftTimestamp::try_parse(base.substr(0, hash1));
  if (!ts) {
    return false;
  }
  file.ts = *ts;
  if (hash1 == std::string_view::npos) {
    return true;
  }
  const auto rest = base.substr(hash1 + 1);
  const auto hash2 = rest.find('#');
  const auto frag = rest.substr(0, hash2);
  const auto index = parse_number(frag, 10);
  if (!all_of(frag, is_digit) || !index || *index > 0x7fffffff) {
    return false;
  }
  file.fragment_index = static_cast<int>(*index);
  if (hash2 != std::string_view::npos) {
    if (rest.substr(hash2 + 1) != "d") {
      return false;
    }
    file.durable = true;
  }
  return true;
}

std::optional<OnDiskFile>
parse_file_name(std::string_view name)
{
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  const auto base = name.substr(0, dot);
  const auto extension = name.substr(dot);
  OnDiskFile file;
  file.name = std::string(name);
  bool ok = false;
  if (extension == ".data") {
    file.ext = Ext::data;
    ok = parse_data_base(base, file);
  } else if (extension == ".meta") {
    file.ext = Ext::meta;
    ok = parse_meta_base(base, file);
  } else if (extension == ".ts" || extension == ".durable") {
    file.ext = extension == ".ts" ? Ext::tombstone : Ext::durable;
    const auto ts = SwiftTimestamp::try_parse(base);
    if (ts) {
      file.ts = *ts;
      ok = true;
    }
  }
  if (!ok) {
    return std::nullopt;
  }
  return file;
}

std::vector<std::string>
list_names(const std::filesystem::path& dir)
{
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
    return names;
  }
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    throw Error(fmt::format("cannot list \"{}\": {}", dir.string(), ec.message()));
  }
  return names;
}

// The EC choice of _process_ondisk_files(): walk timestamps newest first;
// the first whose fragments are durable wins. A legacy .durable names a
// durable timestamp directly; a #d fragment only counts if no newer
// .durable exists (Swift keeps the newer one as "the" durable timestamp).
const OnDiskFile*
choose_fragment(std::vector<const OnDiskFile*> fragments, std::optional<SwiftTimestamp> durable_ts)
{
  std::sort(fragments.begin(), fragments.end(), [](const auto* a, const auto* b) {
    if (!(a->ts == b->ts)) {
      return b->ts < a->ts;
    }
    if (a->fragment_index != b->fragment_index) {
      return a->fragment_index > b->fragment_index;
    }
    return a->durable > b->durable;
  });
  for (auto first = fragments.begin(); first != fragments.end();) {
    const auto last = std::find_if(first, fragments.end(), [&](const auto* f) {
      return !(f->ts == (*first)->ts);
    });
    const bool any_durable = std::any_of(first, last, [](const auto* f) { return f->durable; });
    if (any_durable && (!durable_ts || *durable_ts < (*first)->ts)) {
      durable_ts = (*first)->ts;
    }
    if (durable_ts && *durable_ts == (*first)->ts) {
      return *first; // highest index, durable name first on a tie
    }
    first = last;
  }
  return nullptr;
}

} // namespace

std::filesystem::path
object_dir(const std::filesystem::path& devices_root,
           std::string_view device,
           int policy_index,
           std::uint32_t partition,
           std::string_view hash_hex)
{
  if (policy_index < 0) {
    throw InputError(fmt::format("negative storage policy index {}", policy_index));
  }
  if (device.empty() || device == "." || device == ".."
      || device.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
    throw InputError(fmt::format("invalid device name \"{}\"", device));
  }
  const auto is_lower_hex = [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); };
  if (hash_hex.size() != k_hash_length
      || !std::all_of(hash_hex.begin(), hash_hex.end(), is_lower_hex)) {
    throw InputError(fmt::format("invalid object hash \"{}\": expected 32 lower-case hex digits",
                                 hash_hex.substr(0, 64)));
  }
  const std::string data_dir = policy_index == 0 ? "objects"
                                                 : fmt::format("objects-{}", policy_index);
  return devices_root / device / data_dir / std::to_string(partition)
         / hash_hex.substr(k_hash_length - k_suffix_length) / hash_hex;
}

LocatedReplica
locate_replica(const std::filesystem::path& dir)
{
  std::vector<OnDiskFile> files;
  for (const auto& name : list_names(dir)) {
    if (auto file = parse_file_name(name)) {
      files.push_back(std::move(*file));
    }
  }

  std::optional<SwiftTimestamp> tombstone;
  bool erasure_coded = false;
  for (const auto& file : files) {
    if (file.ext == Ext::tombstone && (!tombstone || *tombstone < file.ts)) {
      tombstone = file.ts;
    }
    erasure_coded = erasure_coded || file.fragment_index.has_value();
  }
  const auto newer_than_tombstone = [&](const OnDiskFile& file) {
    return !tombstone || *tombstone < file.ts;
  };

  const OnDiskFile* chosen = nullptr;
  if (erasure_coded) {
    std::vector<const OnDiskFile*> fragments;
    std::optional<SwiftTimestamp> durable_ts;
    for (const auto& file : files) {
      if (!newer_than_tombstone(file)) {
        continue;
      }
      if (file.ext == Ext::data && file.fragment_index) {
        fragments.push_back(&file);
      } else if (file.ext == Ext::durable && (!durable_ts || *durable_ts < file.ts)) {
        durable_ts = file.ts;
      }
    }
    chosen = choose_fragment(std::move(fragments), durable_ts);
  } else {
    for (const auto& file : files) {
      if (file.ext == Ext::data && newer_than_tombstone(file)
          && (!chosen || chosen->ts < file.ts)) {
        chosen = &file;
      }
    }
  }

  LocatedReplica result;
  if (chosen) {
    result.state = ReplicaState::present;
    result.data_file = dir / chosen->name;
    result.timestamp = chosen->ts.internal();
    result.fragment_index = chosen->fragment_index;
    const OnDiskFile* meta = nullptr;
    for (const auto& file : files) {
      // Replication drops .meta files at the data's timestamp; EC only
      // those older than the durable timestamp.
      const bool applies = erasure_coded ? !(file.ts < chosen->ts) : chosen->ts < file.ts;
      if (file.ext == Ext::meta && applies
          && (!meta || meta->ts < file.ts
              || (meta->ts == file.ts && meta->ctype_ticks < file.ctype_ticks))) {
        meta = &file;
      }
    }
    if (meta) {
      result.meta_file = dir / meta->name;
    }
  } else if (tombstone) {
    result.state = ReplicaState::deleted;
    result.timestamp = tombstone->internal();
  }
  return result;
}

} // namespace hlm::diskfile
