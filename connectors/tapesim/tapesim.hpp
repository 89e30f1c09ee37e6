#pragma once

#include <hlm/connector/connector.hpp>

#include <memory>

namespace hlm::connector::tapesim {

// The `tapesim` connector: a simulated tape library that really moves
// bytes (library.hpp), with a timing model in simulated seconds
// (timing.hpp) and tape-ordered scheduling (schedule.hpp).
//
// migrate: copies each replica's .data bytes to the end of a cartridge of
//   the pool, after a header that makes the copy self-describing (name,
//   .data file name, length, MD5, raw user.swift.* xattrs; tape_record.hpp),
//   checks them against the ETag in the replica's Swift metadata,
//   syncs the cartridge, then records cartridge, position, length and MD5
//   in the index: the replica is `migrated`. With `release = punch` the
//   disk copy's blocks are then freed (size and xattrs kept). A replica
//   already on tape only changes state: no bytes move. Until the index
//   commit the disk copy is untouched, so a migrate killed at any point
//   leaves every replica readable.
// recall: reads each copy back, in tape order (grouped by cartridge, each
//   mounted once, read in position order, spread over the drives), checks
//   the bytes against the MD5 recorded at migrate time and the replica's
//   ETag, writes them back to a released disk copy, and makes the replica
//   `premigrated` (or `resident`, forgetting the tape copy, with
//   `recall_state = resident`). A mismatch fails that replica and changes
//   nothing.
// status: reads the index only (no mount).
// locate: each item's copy, from the index and the drive table only (no
//   mount): cartridge, position and length of what a recall reads (for a
//   missing .data file, the whole record, header and data), whether that
//   cartridge is in a drive, and whether the replica is premigrated with
//   its data on disk; nullopt for a replica that is not on tape (or lost
//   with no copy to rebuild it from).
// estimate: what a migrate or recall would cost, simulated with the calls'
//   own scheduling and timing on the drives as the library's last call
//   left them, or as the last estimate of the library in this process left
//   them (consecutive estimates add up as consecutive calls would), without
//   a mount, a byte moved, or an index change. Exact for recall; for
//   migrate, exact unless a write fails after the drives worked (a disk
//   copy that does not match its ETag, a write error).
// can_rebuild(): true. A replica whose .data file is missing (Item::file
//   empty) is found by its hash directory: the copy of the newest .data
//   file indexed there. status says `migrated` when that copy has a header,
//   else fails; recall recreates the file from the header and data
//   (rebuild.hpp) and makes it `premigrated` (or `resident`). A replica
//   with no copy fails with "object is not on this device".
//
// Settings ([hlm:tapesim]): library, pool, cartridge_capacity, slots,
// drives, release (keep|punch), recall_state (premigrated|resident),
// time_scale, robot_exchange_seconds, load_seconds, locate_average_seconds,
// rewind_average_seconds, unload_seconds, drive_rate_mb (MB/s).
std::unique_ptr<Connector> create(Settings& settings);

} // namespace hlm::connector::tapesim
