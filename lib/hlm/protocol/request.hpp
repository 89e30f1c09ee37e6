#pragma once

#include <hlm/core/operation.hpp>
#include <hlm/core/swift_name.hpp>
#include <hlm/util/clock.hpp>
#include <hlm/util/temp_file.hpp>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The documents between hlm-dispatch (or hlmctl status) and hlm-handler,
// as hlm-handler(8) specifies them: the request here, the result in
// result.hpp. Version 1 is the seed's request document with an optional
// "version" key; a document without one is version 1. Version 2 adds an
// "id" that the answer echoes, for a session of many documents on one
// handler process: a v2 handler reads the next document only after it has
// flushed the previous answer. Version 3 adds "restore_until" and
// "release_before" (Request), so that a handler that does not know them
// refuses the document instead of migrating what it should keep.
namespace hlm::protocol {

// The newest version read and written; version 1 is still read and, unless
// asked for version 2, written.
inline constexpr int k_version = 3;

// Throws hlm::InputError unless `name` can name a device directory: not
// empty, no '/', not "." or "..", no NUL or control characters.
void check_device_name(std::string_view name);

// A handler request: the objects in input order. Device names are stored
// once and referenced by index so that a million objects cost one path
// string each.
struct Request
{
  static constexpr std::uint32_t k_any_device = UINT32_MAX;

  struct Object
  {
    std::string path;
    std::uint32_t device = k_any_device; // index into `devices`
  };

  Operation operation = Operation::status;
  int version = 1; // 1 or 2
  // Version 2 only (and required there): echoed by the answer, so that an
  // answer can be matched to its request on a long-lived channel.
  std::optional<std::uint64_t> id;
  // Version 2 only ("placement": true; ignored in version 1): each result
  // line of a status also says where the backend holds the replica's copy
  // (Connector::locate), for a dispatcher choosing which copies to recall.
  bool placement = false;
  // Version 3 only (ignored before): restore expiry (hlm-handler(8),
  // "Restore expiry"). A recall with `restore_until` (Unix seconds) marks
  // each replica it brings back to go back to tape then (the later of that
  // and a mark it already has); a recall without it clears the mark.
  std::optional<std::int64_t> restore_until;
  // A migrate with `release_before` (Unix seconds) is a release: it
  // migrates only the replicas on disk whose mark is due by then, and
  // answers the others with their status.
  std::optional<std::int64_t> release_before;
  // Version 3 only: a migrate or recall that is estimated, not done
  // ("estimate": true): each replica's line is its status, and the answer
  // carries what the backends expect the operation to cost
  // (connector::Connector::estimate). Nothing is changed.
  bool estimate = false;
  // Version 3 only: a status that reports the restore expiry of each
  // premigrated replica ("restore_marks": true; one more getxattr each),
  // as hlmctl status asks. Without it a status reads no mark.
  bool restore_marks = false;
  std::optional<int> storage_policy_index;
  std::optional<std::string> swift_dir;
  std::vector<std::string> devices;
  std::vector<Object> objects;
};

// The request document, one line of JSON ending in '\n': {"request": op,
// "version": 1, "storage_policy_index": N (when set), "swift_dir" (when
// set), "objects": [{"object": path, "device": name or absent}, …]}; with
// request.version 2, "version": 2 and "id": N (request.id, which must be
// set; throws hlm::InputError otherwise), and "placement": true when
// request.placement is set (refused in version 1 and for another operation
// than status).
// Object paths and device names must be valid UTF-8 (JSON cannot carry
// other bytes); throws hlm::InputError naming the first that is not.
std::string encode_request(const Request& request);

// One object of a request document as the second encode_request() takes
// it: its path and its device's name (absent: any device).
struct ObjectRef
{
  std::string_view path;
  std::optional<std::string_view> device;
};

// encode_request() with `count` objects given by `object(i)`, in order,
// instead of request.objects (not looked at): for a caller that holds the
// paths and device names already, so that they are not copied into a
// Request to be written.
std::string encode_request(const Request& request,
                           std::size_t count,
                           const std::function<ObjectRef(std::size_t)>& object);

// Reads the seed's request document from `in`, streaming (no JSON tree is
// built): {"request": "status"|"migrate"|"recall", "objects": [{"object":
// "/a/c/o", "device": "sdb1"}, …], "storage_policy_index": N, "swift_dir":
// "/etc/swift", "version": 1}. Unknown keys are ignored; a "version" other
// than 1 or 2 is refused, and a version 2 document needs an "id" (an
// unsigned 64-bit integer; ignored in version 1). "placement" must be a
// boolean (or null); it is read in version 2 only, and a status only. The whole input is read and
// checked before anything is returned: one document and nothing after it but whitespace. Throws
// hlm::InputError naming what is wrong (malformed or truncated JSON, a missing or mistyped field, a
// bad object path or device name, another version).
Request read_request_document(std::istream& in);

// Reads request documents one after another from one stream, as a
// long-lived hlm-handler session gets them: each document is read and
// checked whole, as read_request_document does, before it is returned;
// whitespace may separate them.
class RequestReader
{
public:
  explicit RequestReader(std::istream& in);

  // The next document, or nullopt at the end of the input (after optional
  // whitespace). Throws hlm::InputError as read_request_document does.
  std::optional<Request> next();

private:
  std::istream& m_in;
};

// Object paths back to back in one string: a list of a million objects
// costs some 45 bytes an object here (the path and where it ends), not
// some 90 (a std::string each, and its heap block).
class ObjectPaths
{
public:
  std::size_t
  size() const noexcept
  {
    return m_ends.size();
  }
  bool
  empty() const noexcept
  {
    return m_ends.empty();
  }
  std::string_view operator[](std::size_t index) const noexcept;

  void push_back(std::string_view path);
  void clear() noexcept;
  // The bytes of the paths, back to back.
  std::size_t
  text_bytes() const noexcept
  {
    return m_text.size();
  }
  // Gives back the room the storage grew into.
  void shrink_to_fit();

private:
  std::string m_text;
  std::vector<std::size_t> m_ends; // where each path ends in m_text
};

// Reads one "/account/container/object" per line (a leading '/' may be
// left out; empty lines are skipped; "\r\n" is accepted). Throws
// hlm::InputError naming the line of the first bad path.
ObjectPaths read_object_paths(std::istream& in);

// read_object_paths() for a list of any length, handed back a batch at a
// time: the whole input is read and checked first (the same errors, before
// any work is done), and the paths beyond `memory_bytes` of them go to an
// unlinked temporary file ($TMPDIR, else /tmp), so that memory stays that
// of `memory_bytes` and one batch however long the list. hlm::Error when
// the file cannot be written or read back.
class ObjectPathSpool
{
public:
  static constexpr std::size_t k_default_memory_bytes = std::size_t{8} << 20;

  explicit ObjectPathSpool(std::istream& in, std::size_t memory_bytes = k_default_memory_bytes);
  ~ObjectPathSpool();
  ObjectPathSpool(const ObjectPathSpool&) = delete;
  ObjectPathSpool& operator=(const ObjectPathSpool&) = delete;

  // The number of paths in the list.
  std::size_t
  size() const noexcept
  {
    return m_count;
  }
  // Whether the paths went to a file (a list longer than memory_bytes).
  bool
  spilled() const noexcept
  {
    return static_cast<bool>(m_file);
  }
  // The next `count` paths in list order (fewer at its end); valid until
  // the next call.
  const ObjectPaths& next_batch(std::size_t count);

private:
  void spill(std::string_view path);

  TemporaryFile m_file; // unlinked: nothing is left behind
  ObjectPaths m_memory; // the list while it fits memory_bytes
  ObjectPaths m_batch;
  std::size_t m_count = 0;
  std::size_t m_next = 0; // the next batch's first path
  std::string m_line;     // read back from the file, its buffer reused
};

// read_object_paths() as a request of `operation` for any device.
Request read_object_lines(std::istream& in, Operation operation);

} // namespace hlm::protocol
