#pragma once

#include <hlm/connector/connector.hpp>

#include <connectors/common/sqlite.hpp>
#include <connectors/tapesim/file_io.hpp>
#include <connectors/tapesim/timing.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace hlm::connector::tapesim {

struct LibraryOptions
{
  std::filesystem::path root;
  std::string pool = "pool1"; // the pool migrate writes to
  std::uint64_t cartridge_capacity = std::uint64_t{1} << 30;
  std::size_t slots = 64; // cartridges the library can hold
  std::size_t drives = 2;
  Timing timing; // tape_length is cartridge_capacity
};

// An object's copy on tape, as the index records it.
struct TapeCopy
{
  std::string file; // the replica's .data file (the index key)
  std::string object;
  std::string cartridge;
  // Where the copy's header (tape_record.hpp) starts; unset for copies
  // written before tapesim wrote headers, which cannot be rebuilt.
  std::optional<std::uint64_t> header_position;
  std::uint64_t position = 0; // of the data
  std::uint64_t length = 0;
  std::string md5;                              // lower-case hex of the bytes written
  ObjectState state = ObjectState::premigrated; // premigrated or migrated
  bool released = false;                        // the disk copy's blocks were freed
};

// Where migrate appends a copy. The pool's cartridges are split into
// copy sets, and each set into one append stream per writer: a library
// keeps the copies of one object on different cartridges (a lost
// cartridge loses one copy), the n-th copy it takes in set n, so set 1
// holds one copy of every object, packed; and two writers (nodes)
// never append to one cartridge, as on a real library where each
// migrating node streams to the cartridge in its own drive.
struct CopyStream
{
  std::int64_t copy_set = 1;
  std::string writer;
};

// Cartridges that estimates (Connector::estimate) planned to add or append
// to and did not: what cartridge_for would see had their migrates run.
struct PlannedCartridges
{
  struct Added
  {
    std::string barcode;
    std::string pool;
    CopyStream stream;
    std::uint64_t capacity = 0;
  };
  std::vector<Added> added;                      // in the order they would be added
  std::map<std::string, std::uint64_t> appended; // bytes per cartridge, past its file's end
};

// Where `length` more bytes of a stream go: a cartridge with room, whose
// end of data is `used` bytes in, or (`fresh`) a new one.
struct CartridgeChoice
{
  std::string barcode;
  bool fresh = false;
  std::uint64_t used = 0;
};

// A simulated tape library in a directory:
//
//   <root>/index.sqlite        cartridges, object copies, drives, clock, calls
//                              (an index from before header_position was
//                              recorded gains the column, NULL, on open)
//   <root>/cartridges/<barcode> one append-only file per cartridge
//   <root>/lock                held (flock) by the one call using the library
//
// A cartridge's end of data is its file's size, not what the index says,
// so bytes appended by a write that crashed before its index commit are
// skipped over, never overwritten, like an unindexed file on a real tape.
class Library
{
public:
  // Creates the directory and index when missing. Throws hlm::Error when
  // they cannot be created or opened.
  explicit Library(LibraryOptions options);
  ~Library();
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  const LibraryOptions&
  options() const
  {
    return m_options;
  }
  sqlite::Database&
  index()
  {
    return m_index;
  }

  // Waits until no other process uses the library, then holds it until
  // the returned guard is destroyed.
  class Hold
  {
  public:
    explicit Hold(int fd);
    Hold(Hold&& other) noexcept;
    Hold& operator=(Hold&&) = delete;
    ~Hold();

  private:
    int m_fd;
  };
  Hold hold();

  // find, find_newest_in, put, set_state and forget each keep one prepared
  // statement for the library's lifetime. Outside a transaction every call
  // takes the index's lock on its own; a batch of finds inside one
  // sqlite::ReadTransaction over index() shares one.
  std::optional<TapeCopy> find(const std::string& file);
  // The copy of the newest .data file directly in `object_dir` (Swift's
  // fixed-width timestamps in the names sort as text), or nullopt.
  std::optional<TapeCopy> find_newest_in(const std::string& object_dir);
  // Every copy the index holds.
  std::vector<TapeCopy> copies();
  // The library's identity (table `identity`): random, made when the index
  // was created, the same for every node that opens this library.
  std::string id();
  // Inserts or replaces the copy of `file`.
  void put(const std::string& file, const TapeCopy& copy);
  void set_state(const std::string& file, ObjectState state, bool released);
  // Drops the index entry (the bytes stay on the cartridge).
  void forget(const std::string& file);

  // The copy sets that hold a copy of `object` ("/account/container/object").
  std::set<std::int64_t> copy_sets_of(const std::string& object);
  // The cartridge of the pool's `stream` that `length` more bytes fit on,
  // adding a new cartridge when none has room. Throws hlm::Error when the
  // object is larger than a cartridge, every slot is full, or the
  // cartridge's file is missing although the index has copies on it.
  std::string cartridge_for(std::uint64_t length, const CopyStream& stream = {});
  // cartridge_for's choice, changing nothing: a new cartridge is named, not
  // added. Cartridges in `planned` count as if their writes had happened.
  // Throws as cartridge_for does.
  CartridgeChoice choose_cartridge(std::uint64_t length,
                                   const CopyStream& stream,
                                   const PlannedCartridges& planned = {});
  std::filesystem::path cartridge_path(const std::string& barcode) const;
  // Opens a cartridge for appending, creating its file (durably) when new.
  File open_for_append(const std::string& barcode);

  // Drive state and the library clock, carried from call to call.
  std::vector<DriveState> load_drives();
  double clock();
  void save_drives(const std::vector<DriveState>& drives, double clock);

  // Appends a row to table `calls`: what one connector call ("migrate",
  // "recall", "unload") cost; `elapsed` is its makespan.
  void record_call(std::string_view operation,
                   std::size_t items,
                   std::size_t failed,
                   const Cost& cost,
                   double elapsed);
  // Rewinds and unloads every drive (what a library does when idle), and
  // records that as call "unload". Call while holding the library.
  Cost unload_all();
  // Every call recorded so far, summed.
  Cost total_cost();

private:
  // The statement in `slot`, prepared from `sql` on first use.
  sqlite::Statement& prepared(std::optional<sqlite::Statement>& slot, const std::string& sql);
  // The newest cartridge of `stream` in the pool (planned ones first, as
  // they would be newer): barcode and capacity.
  std::optional<std::pair<std::string, std::uint64_t>> newest_cartridge(
    const CopyStream& stream,
    const PlannedCartridges& planned);
  // Bytes on `barcode` so far: its file's size, 0 when it has no file and
  // no copies yet. Throws when the index has copies on a missing file.
  std::uint64_t used_bytes(const std::string& barcode);

  LibraryOptions m_options;
  sqlite::Database m_index;
  int m_lock_fd = -1;
  std::string m_id; // id(), once read
  // Declared after m_index: finalized before it closes.
  std::optional<sqlite::Statement> m_find;
  std::optional<sqlite::Statement> m_find_newest_in;
  std::optional<sqlite::Statement> m_put;
  std::optional<sqlite::Statement> m_set_state;
  std::optional<sqlite::Statement> m_forget;
  std::optional<sqlite::Statement> m_copy_sets;
};

} // namespace hlm::connector::tapesim
