#pragma once

#include <connectors/tapesim/file_io.hpp>
#include <connectors/tapesim/tape_record.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>

namespace hlm::connector::tapesim {

// Recreates a lost replica's .data file from its tape record: `header`
// (already read and checked against the index by the caller) and the
// data at `data_position` of `cartridge`.
//
// `object_dir` is the replica's hash directory,
// <devices>/<device>/objects[-N]/<partition>/<suffix>/<hash>. The file is
// written in the device's own tmp directory (<devices>/<device>/tmp,
// created when missing, as Swift's object server uses it), its MD5
// checked against header.data_md5, header.xattrs set on it and everything
// fsynced; then the hash directory (and parents) is created when missing
// and the file linked there as header.data_file, never replacing a file,
// and the directory fsynced.
//
// Refuses (nothing is left behind, the temporary file is removed) when
// the directory already holds a current .data or a tombstone, when the
// bytes on the cartridge do not have the header's MD5, or when a .data or
// .ts newer than the rebuilt one appeared while it was written (a PUT or
// DELETE won the race: the linked file is removed again). Every refusal
// and I/O failure throws hlm::Error saying what happened.
//
// `before_link` runs just before the link (tests use it to play a racing
// PUT or DELETE).
//
// Returns the path of the new file.
std::filesystem::path rebuild_replica(const File& cartridge,
                                      std::uint64_t data_position,
                                      const TapeRecordHeader& header,
                                      const std::filesystem::path& object_dir,
                                      const std::function<void()>& before_link = {});

} // namespace hlm::connector::tapesim
