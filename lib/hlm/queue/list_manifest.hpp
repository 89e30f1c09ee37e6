#pragma once

// List requests (issue 14, goal 3): a `hlmctl migrate|recall -f LIST` of
// many objects of one container is queued as one manifest object holding
// the object names and one queue row naming the manifest, instead of one
// row per object. This file is the manifest's format and the row's
// parameters; writing and reading them on the cluster is elsewhere.
//
// Where they live, in the hidden account next to SwiftHLM's containers:
// - the manifest: object `<list-id>` of container `hlm-lists`;
// - the row: `/<submitted>/<op>/<account>/<container>/<policy>/<list-id>`
//   (encode_entry's grammar, the list id in the object's place) in
//   container `pending-hlm-lists`. SwiftHLM's dispatcher lists only
//   `pending-hlm-requests`, so it never reads a list row as an object (a
//   list row there would be failed as a missing object named by the id).

#include <hlm/core/operation.hpp>
#include <hlm/queue/entry.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace hlm::queue {

inline constexpr std::string_view k_lists_container = "hlm-lists";
inline constexpr std::string_view k_pending_lists_container = "pending-hlm-lists";
inline constexpr std::string_view k_list_content_type = "application/x-hlm-list";

inline constexpr std::string_view k_manifest_content_type = "application/x-hlm-manifest";

// The largest manifest one list request holds (a GET reads it whole); a
// longer list is queued as several list requests.
inline constexpr std::size_t k_max_manifest_bytes = 8 * 1024 * 1024;

// Swift's default max_object_name_length; a manifest refuses longer names.
inline constexpr std::size_t k_max_listed_name_bytes = 1'024;

// The manifest format this code writes and reads.
inline constexpr int k_manifest_format = 1;

// What a manifest is about: every name in it is an object of `account` /
// `container` in storage policy `policy_index`, to be migrated or recalled.
struct ListHeader
{
  Operation operation = Operation::migrate; // never status
  std::string account;
  std::string container;
  int policy_index = 0;

  bool operator==(const ListHeader&) const = default;
};

// A new list id: `<submitted>-<16 lowercase hex digits>` from a random
// 64-bit value, so ids sort by submission and two submissions in the same
// millisecond do not collide. `submitted` is format_submitted's form.
std::string make_list_id(std::string_view submitted);

// Whether `id` has make_list_id's form (and so is safe as an object name
// and an entry's last part).
bool is_list_id(std::string_view id);

// Writes a manifest as a stream of bytes handed to `sink`, in pieces:
//   line 1: {"format":1,"operation":"migrate","account":…,"container":…,"policy":N}
//   then each object name as a JSON string on a line of its own (names may
//   hold '\n'), in strictly ascending byte order (sorted, each once);
//   last line: {"end":true,"count":N}.
// The last line is what tells a complete manifest from a cut one.
class ManifestWriter
{
public:
  using Sink = std::function<void(std::string_view bytes)>;

  // Writes the header line. Throws hlm::InputError for a header
  // encode_entry would refuse (empty or '/' in account or container,
  // invalid UTF-8, status, a negative policy).
  ManifestWriter(const ListHeader& header, Sink sink);

  // Appends a name. Throws hlm::InputError (nothing written) for an empty
  // name, one longer than k_max_listed_name_bytes, invalid UTF-8 or a NUL,
  // and for a name not greater than the one before (the list must be sorted
  // and unique: util::ExternalSort gives that order).
  void add(std::string_view name);

  // Writes the last line; returns the number of names. Call once.
  std::uint64_t finish();

private:
  Sink m_sink;
  std::string m_last;
  std::uint64_t m_count = 0;
  bool m_finished = false;
};

// Reads a manifest fed in pieces of any size (ranged GETs), checking what
// ManifestWriter promises; each name goes to `on_name` in order. Every
// refusal is hlm::InputError naming `what` and the line: a header that is
// not the format-1 header, a line that is not a JSON string, a name the
// writer would refuse, names out of order, a line longer than a name can
// make, anything after the last line, and (at finish) a manifest without
// its last line or whose count disagrees.
class ManifestReader
{
public:
  using OnName = std::function<void(std::string_view name)>;

  ManifestReader(std::string what, OnName on_name);

  void feed(std::string_view bytes);
  // Checks that the manifest ended with its last line; returns the count.
  std::uint64_t finish();

  // The header, once its line has been read.
  const std::optional<ListHeader>&
  header() const
  {
    return m_header;
  }
  // Names read so far.
  std::uint64_t
  count() const
  {
    return m_count;
  }

private:
  void take_line(std::string_view line);
  void take_header(std::string_view line);
  void take_name(std::string_view line);
  void take_end(std::string_view line);
  [[noreturn]] void refuse(std::string_view why) const;

  std::string m_what;
  OnName m_on_name;
  std::string m_pending; // the start of a line not yet ended
  std::uint64_t m_line = 0;
  std::optional<ListHeader> m_header;
  std::string m_last;
  std::uint64_t m_count = 0;
  bool m_ended = false;
};

// How far a list request has come, kept in its row's content type (rows
// have no body; Swift keeps these parameters as they are):
// "application/x-hlm-list; count=N; done=K; failed=F".
struct ListProgress
{
  std::uint64_t count = 0;  // names in the manifest
  std::uint64_t done = 0;   // names worked so far (succeeded or failed)
  std::uint64_t failed = 0; // of those, failed

  bool operator==(const ListProgress&) const = default;
};

std::string list_content_type(const ListProgress& progress);

// The inverse; nullopt when `content_type` is not a list row's, or when a
// parameter is missing or malformed, or done > count or failed > done (a
// row hlm did not write).
std::optional<ListProgress> list_progress_of(std::string_view content_type);

} // namespace hlm::queue
