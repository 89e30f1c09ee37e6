#include <hlm/diskfile/diskfile.hpp>
#include <hlm/util/error.hpp>

#include <connectors/tapesim/rebuild.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hlm::connector::tapesim {

namespace {

namespace fs = std::filesystem;

// Removes the file at `path` on destruction unless released.
class RemoveOnFailure
{
public:
  explicit RemoveOnFailure(fs::path path)
    : m_path(std::move(path))
  {
  }
  ~RemoveOnFailure()
  {
    if (!m_path.empty()) {
      ::unlink(m_path.c_str());
    }
  }
  RemoveOnFailure(const RemoveOnFailure&) = delete;
  RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;

  void
  release()
  {
    m_path.clear();
  }

private:
  fs::path m_path;
};

void
sync_dir(const fs::path& dir)
{
  File(dir, O_RDONLY | O_DIRECTORY).sync_all();
}

// Creates `dir` and its missing parents, each new name made durable.
void
create_durably(const fs::path& dir)
{
  fs::path existing = dir;
  std::error_code ec;
  while (!existing.empty() && !fs::is_directory(existing, ec)) {
    existing = existing.parent_path();
  }
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error(fmt::format("cannot create \"{}\": {}", dir.string(), ec.message()));
  }
  for (fs::path p = dir; p != existing && p.has_parent_path(); p = p.parent_path()) {
    sync_dir(p.parent_path());
  }
}

std::string
describe(const diskfile::LocatedReplica& replica)
{
  return replica.state == diskfile::ReplicaState::deleted
           ? fmt::format("a tombstone ({}.ts)", replica.timestamp)
           : fmt::format("a .data file ({})", replica.data_file.filename().string());
}

} // namespace

fs::path
rebuild_replica(const File& cartridge,
                std::uint64_t data_position,
                const TapeRecordHeader& header,
                const fs::path& object_dir,
                const std::function<void()>& before_link)
{
  const auto target = object_dir / header.data_file;
  // <device>/objects[-N]/<partition>/<suffix>/<hash>
  const auto objects = object_dir.parent_path().parent_path().parent_path();
  if (!objects.filename().string().starts_with("objects")) {
    throw Error(
      fmt::format("\"{}\" is not an object's hash directory on a device", object_dir.string()));
  }
  const auto tmp_dir = objects.parent_path() / "tmp";

  const auto before = diskfile::locate_replica(object_dir);
  if (before.state != diskfile::ReplicaState::absent) {
    throw Error(
      fmt::format("\"{}\" now holds {}; nothing rebuilt", object_dir.string(), describe(before)));
  }

  std::error_code ec;
  fs::create_directories(tmp_dir, ec);
  if (ec) {
    throw Error(fmt::format("cannot create \"{}\": {}", tmp_dir.string(), ec.message()));
  }
  const File temporary = File::create_temporary(tmp_dir);
  // Its name goes in every case: once linked, the object's name holds it.
  RemoveOnFailure remove_temporary(temporary.path());
  const auto md5 = cartridge.copy(data_position, header.data_length, &temporary, 0);
  if (md5 != header.data_md5) {
    throw Error(fmt::format("checksum mismatch on cartridge \"{}\" at byte {} ({} bytes): tape "
                            "holds MD5 {}, its header says {}; nothing rebuilt",
                            cartridge.path().string(),
                            data_position,
                            header.data_length,
                            md5,
                            header.data_md5));
  }
  for (const auto& [name, value] : header.xattrs) {
    temporary.set_xattr(name, value);
  }
  temporary.sync_all();

  create_durably(object_dir);
  if (before_link) {
    before_link();
  }
  if (::link(temporary.path().c_str(), target.c_str()) != 0) {
    const int error = errno;
    throw Error(fmt::format("cannot link the rebuilt file to \"{}\": {}{}",
                            target.string(),
                            std::strerror(error),
                            error == EEXIST ? " (it appeared meanwhile); nothing rebuilt" : ""));
  }
  RemoveOnFailure remove_target(target);
  const auto after = diskfile::locate_replica(object_dir);
  if (after.state != diskfile::ReplicaState::present || after.data_file != target) {
    // Unlinked before the directory is synced, so the removal is durable.
    ::unlink(target.c_str());
    remove_target.release();
    sync_dir(object_dir);
    throw Error(fmt::format("\"{}\" got {} newer than the rebuilt {} while it was written (a PUT "
                            "or DELETE); the rebuilt file was discarded",
                            object_dir.string(),
                            describe(after),
                            header.data_file));
  }
  sync_dir(object_dir);
  remove_target.release();
  return target;
}

} // namespace hlm::connector::tapesim
