#pragma once

#include <hlm/core/failure.hpp>
#include <hlm/core/operation.hpp>
#include <hlm/util/settings.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::connector {

// One replica handed to a backend: the Swift name (for logs and backends
// that index by name) and the local file that holds its data.
//
// A replica whose .data file is missing from a device the ring names for
// it (lost to a disk swap, removed by hand, quarantined) has an empty
// `file`; `object_dir` then names the hash directory where it belongs
// (<devices>/<device>/objects[-N]/<partition>/<suffix>/<hash>, as
// diskfile::object_dir lays it out; it may not exist). Such items are only
// handed to a connector whose can_rebuild() is true, and only for recall
// (rebuild the file there from the backend's copy) and status (say whether
// the backend could). A tombstoned (deleted) replica is never handed over.
struct Item
{
  std::string object;          // "/account/container/object"
  std::string file;            // absolute path of the replica's .data file, or empty
  std::string object_dir = {}; // set when `file` is empty: where the replica belongs
};

// The outcome for one item. `failure` set means the operation failed for
// this item; `state` is then what the backend still knows, often unknown.
struct Outcome
{
  ObjectState state = ObjectState::unknown;
  std::optional<Failure> failure;

  bool
  ok() const
  {
    return !failure;
  }

  // The failure's message, if any.
  std::optional<std::string>
  error() const
  {
    return failure ? std::optional<std::string>(failure->message) : std::nullopt;
  }

  // A failed item: unknown state, a failure of `kind` (transient or not
  // as the kind usually is).
  static Outcome failed(std::string message, FailureKind kind = FailureKind::backend);
};

// Where a backend holds an item's copy, as far as it knows without moving
// anything: what a caller that sees every replica of an object (the
// dispatcher) needs to choose the copies whose recall costs the fewest
// mounts and locates.
struct Placement
{
  std::string volume;         // the cartridge (volume, tape) that holds the copy
  std::uint64_t position = 0; // where the copy starts on it, in the backend's units
  std::uint64_t length = 0;   // the copy's length, in the same units
  bool in_drive = false;      // the volume is in a drive now: no mount to read it
  bool on_disk = false;       // the replica's data is on disk too (premigrated)
  // The library (or backend instance) the volume belongs to: volume names
  // are unique within a library only, so two nodes with libraries of their
  // own may both have a "T00001"; nodes that share a library give the same
  // id. Empty: one library for every node.
  std::string library = {};

  bool operator==(const Placement&) const = default;
};

// What a backend expects an operation on a batch to cost, as its own
// scheduler would run it now (Connector::estimate): what `hlmctl estimate`
// and `hlm-dispatch --dry-run` add up over the nodes.
struct Estimate
{
  std::uint64_t items = 0;      // items the operation would move (not already where it puts them)
  std::uint64_t bytes = 0;      // bytes it would move
  std::uint64_t cartridges = 0; // distinct volumes it would use
  std::uint64_t mounts = 0;     // volume mounts
  double drive_seconds = 0;     // summed over the drives
  double wall_seconds = 0;      // elapsed: the drives work in parallel

  // Adds `more` field by field: estimates of calls made one after another
  // (their wall times add up too).
  Estimate& operator+=(const Estimate& more);

  bool operator==(const Estimate&) const = default;
};

// The generic backend interface (SwiftHLM's GBI). A backend implements
// apply(); callers call run(). Every call takes a batch and returns exactly
// one Outcome per item, in the same order; a failure that concerns single
// items is reported in their outcomes, with the kind that says whether
// trying again later may help (a file path the backend cannot take is
// `rejected`; a drive that failed is a transient `backend` failure). A call
// throws hlm::Error only when the backend as a whole is unusable, and must
// then have changed nothing it cannot report.
//
// What each operation does to an item:
// - migrate moves the file's data to the backend; success leaves it
//   `migrated`;
// - recall brings the data back to disk; success leaves it `premigrated`
//   (or `resident` where the backend never held it);
// - status reports the state and changes nothing.
class Connector
{
public:
  virtual ~Connector() = default;

  // apply(), checked: throws hlm::Error when it returns another number of
  // outcomes than `items` has.
  std::vector<Outcome> run(Operation operation, std::span<const Item> items);

  // True when the backend keeps enough with each copy to recreate a lost
  // .data file byte for byte (name, xattrs, data) and accepts items with an
  // empty `file`: recall then recreates the file in `object_dir` (success
  // leaves it `premigrated`, or as the backend's recall state says), and
  // status answers `migrated` when the copy could be rebuilt, or an error
  // when the backend has none. False (the default): such items never reach
  // this connector; the handler answers them itself. Asked from several
  // threads at once (hlm-handler's device threads): a constant answer.
  virtual bool
  can_rebuild() const
  {
    return false;
  }

  // Each item's placement on the backend, in the order of `items`, checked
  // like run(): nullopt where the backend has no copy of the item, or
  // cannot say where its copy is (connectors without a placement, which is
  // the default: dummy, ltfsdm, exec). Reads only: no mount, no state
  // change. Items with an empty `file` (can_rebuild()) are placed by the
  // copy a recall would rebuild them from. Throws hlm::Error as run() does.
  std::vector<std::optional<Placement>> locate(std::span<const Item> items);

  // What `operation` (migrate or recall) on `items` would cost if run()
  // were called now, changing nothing (no mount, no data moved, no state
  // change): nullopt when the backend cannot estimate (the default: dummy,
  // ltfsdm; an exec program that does not answer the request). A backend
  // that keeps state between calls (tapesim's drives) starts each estimate
  // in a process where the previous estimate of the same backend left it,
  // as consecutive run() calls would. Throws hlm::Error as run() does.
  std::optional<Estimate> estimate(Operation operation, std::span<const Item> items);

private:
  virtual std::vector<Outcome> apply(Operation operation, std::span<const Item> items) = 0;
  // locate() without the check; the default places nothing.
  virtual std::vector<std::optional<Placement>> placements(std::span<const Item> items);
  // estimate() itself; the default cannot estimate.
  virtual std::optional<Estimate> plan(Operation operation, std::span<const Item> items);
};

// Builds a connector from its settings section. Takes every key it knows
// from `settings`; the caller rejects the rest.
using Factory = std::unique_ptr<Connector> (*)(Settings& settings);

struct ConnectorInfo
{
  std::string_view name;
  std::string_view description;
  Factory create;
};

} // namespace hlm::connector
