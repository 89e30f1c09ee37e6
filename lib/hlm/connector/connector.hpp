#pragma once

#include <hlm/connector/settings.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hlm::connector {

// Where an object's data is, as a backend reports it.
enum class ObjectState {
  resident,    // on disk only
  premigrated, // on disk and on tape
  migrated,    // on tape only (the disk file is a stub)
  unknown,     // the backend cannot say, or replicas disagree
};

enum class Operation { migrate, recall, status };

std::string_view to_string(ObjectState state);
std::string_view to_string(Operation operation);
std::optional<ObjectState> parse_object_state(std::string_view text);
std::optional<Operation> parse_operation(std::string_view text);

// One replica handed to a backend: the Swift name (for logs and backends
// that index by name) and the local file that holds its data.
struct Item
{
  std::string object; // "/account/container/object"
  std::string file;   // absolute path of the replica's .data file
};

// The outcome for one item. `error` set means the operation failed for this
// item; `state` is then what the backend still knows, often unknown.
struct Outcome
{
  ObjectState state = ObjectState::unknown;
  std::optional<std::string> error;

  bool
  ok() const
  {
    return !error;
  }
};

// The generic backend interface (SwiftHLM's GBI). Every method takes a batch
// and returns exactly one Outcome per item, in the same order; a failure
// that concerns single items is reported in their outcomes. A method throws
// hlm::Error only when the backend as a whole is unusable, and must then have
// changed nothing it cannot report.
class Connector
{
public:
  virtual ~Connector() = default;

  // Moves each file's data to the backend; success leaves it `migrated`.
  virtual std::vector<Outcome> migrate(std::span<const Item> items) = 0;
  // Brings each file's data back to disk; success leaves it `premigrated`
  // (or `resident` where the backend never held it).
  virtual std::vector<Outcome> recall(std::span<const Item> items) = 0;
  // Reports each file's state; changes nothing.
  virtual std::vector<Outcome> status(std::span<const Item> items) = 0;

  std::vector<Outcome> run(Operation operation, std::span<const Item> items);
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
