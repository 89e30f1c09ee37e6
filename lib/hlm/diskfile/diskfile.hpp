#pragma once

#include <hlm/core/swift_timestamp.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::diskfile {

namespace detail {
struct OnDiskFile; // one parsed name of a hash directory (diskfile.cpp)
} // namespace detail

// The directory that holds every file of one object on one device, as
// Swift's get_data_dir() and DiskFile lay it out:
//   <devices_root>/<device>/objects[-<policy_index>]/<partition>/<hash[-3:]>/<hash>
// ("objects" for policy 0, "objects-N" for N > 0).
//
// `hash_hex` is the object's hash_path() digest: 32 lower-case hex digits.
// Throws hlm::InputError for a negative policy index, a malformed hash, or a
// device name that is empty, ".", ".." or contains '/' or NUL (it must not
// lead outside devices_root).
std::filesystem::path object_dir(const std::filesystem::path& devices_root,
                                 std::string_view device,
                                 int policy_index,
                                 std::uint32_t partition,
                                 std::string_view hash_hex);

// object_dir() written into `out` (replacing its content), for callers that
// build one per object and reuse the string's storage. Same checks and
// throws; the text is what object_dir(...).string() gives.
void format_object_dir(std::string& out,
                       std::string_view devices_root,
                       std::string_view device,
                       int policy_index,
                       std::uint32_t partition,
                       std::string_view hash_hex);

enum class ReplicaState {
  present, // a current .data file (or durable EC fragment) exists
  deleted, // the newest state is a tombstone (.ts)
  absent,  // no directory, or nothing that defines a state
};

struct LocatedReplica
{
  ReplicaState state = ReplicaState::absent;
  // present: the .data file that holds the object; empty otherwise.
  std::filesystem::path data_file;
  // Internal Swift form of the deciding file's timestamp
  // ("1795332046.73390", "1795332046.73390_0000000000000001"): the data
  // file's when present, the tombstone's when deleted; empty when absent.
  std::string timestamp;
  // present under an erasure-coding policy: the fragment index of data_file.
  std::optional<int> fragment_index;
  // present: the newest .meta file that applies to data_file (POSTed
  // metadata that overrides the .data file's), or empty.
  std::filesystem::path meta_file;
};

// Decides which file, if any, holds the current version of the object whose
// hash directory is `dir`, by file names alone (files are not opened or
// stat'ed, so symlinks in the directory are never followed here).
//
// Mirrors Swift 2.30's get_ondisk_files() for a GET without fragment
// preferences:
//   * Files are <ts>.data, <ts>#<frag>.data, <ts>#<frag>#d.data, <ts>.ts,
//     <ts>.meta, <ts>[+-]<hex>[[+-]<hex>].meta and legacy <ts>.durable, where
//     <ts> is "<seconds>[.<fraction>][_<offset, 1-16 hex digits>]" below
//     10^10 s. Timestamps compare as Swift's Timestamp does: the value
//     rounded to 10 us, then the offset.
//   * The newest .ts hides every .data, .meta and .durable at or before it.
//   * Replication (no fragment-indexed .data in the directory): the newest
//     remaining .data is current.
//   * Erasure coding (any <ts>#<frag>... .data present; plain <ts>.data is
//     then ignored, as Swift's EC policy does): the newest timestamp whose
//     fragments are durable (a #d fragment or a legacy <ts>.durable) is
//     current, and of its fragments the highest index is reported. Newer
//     non-durable fragments are ignored; if only non-durable fragments
//     remain the object is absent, or deleted when a tombstone exists.
//   * meta_file is the newest .meta newer than the data (EC: not older), ties
//     broken by the content-type timestamp encoded in the name.
// Names that do not parse are ignored (rsync temp files ".<name>.XXXXXX",
// hashes.pkl, names with a malformed timestamp or fragment index, and forms
// Swift's parser would accept but never writes, such as "1e9.data",
// "1.5#2#x.data" or "1.5#2#d#x.data"), where Swift logs them as unexpected.
//
// Returns absent when `dir` does not exist or is not a directory. Throws
// hlm::Error naming `dir` when it cannot be listed for another reason
// (permissions, I/O error).
LocatedReplica locate_replica(const std::filesystem::path& dir);

// What ReplicaScanner::scan() decided for one hash directory. The names are
// file names inside that directory, valid until the scanner's next scan().
struct ScannedReplica
{
  ReplicaState state = ReplicaState::absent;
  // present: the .data file's name; empty otherwise.
  std::string_view data_name;
  // present: the .meta file's name (see LocatedReplica::meta_file), or empty.
  std::string_view meta_name;
  // The deciding file's timestamp (present: the data's, deleted: the
  // tombstone's); nullopt when absent.
  std::optional<SwiftTimestamp> timestamp;
  std::optional<int> fragment_index;
};

// locate_replica() for many directories, at a few system calls each: the
// directory is opened (open with O_DIRECTORY), read with getdents64 into one
// buffer the scanner keeps until a read returns nothing, and closed; no
// stat, and no allocation once the scanner has seen a directory as large.
// locate_replica() is scan() on a scanner of its own. Not thread-safe.
class ReplicaScanner
{
public:
  static constexpr std::size_t k_default_buffer_bytes = std::size_t{32} << 10;

  // `buffer_bytes`: how much getdents64 may return per call (at least 1 KiB
  // is used, so that any single entry fits).
  explicit ReplicaScanner(std::size_t buffer_bytes = k_default_buffer_bytes);
  ~ReplicaScanner();
  ReplicaScanner(const ReplicaScanner&) = delete;
  ReplicaScanner& operator=(const ReplicaScanner&) = delete;

  // The replica whose hash directory is `dir` (a NUL-free path), decided
  // and with the errors of locate_replica().
  ScannedReplica scan(const std::string& dir);

  // getdents64 calls made by this scanner so far (the reads that returned
  // nothing included): what a test needs to see a directory read in pieces.
  std::uint64_t
  directory_reads() const noexcept
  {
    return m_directory_reads;
  }

private:
  void read_directory(const std::string& dir);

  std::unique_ptr<std::byte[]> m_buffer;
  std::size_t m_buffer_bytes;
  std::vector<detail::OnDiskFile> m_files;
  std::string m_names; // the names of m_files, back to back
  std::uint64_t m_directory_reads = 0;
};

} // namespace hlm::diskfile
