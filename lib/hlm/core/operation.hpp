#pragma once

#include <optional>
#include <string_view>

namespace hlm {

// What hlm is asked to do with an object. The queue holds migrate and
// recall; status is only ever asked, never queued.
enum class Operation { migrate, recall, status };

// Where an object's data is, as a backend reports it.
enum class ObjectState {
  resident,    // on disk only
  premigrated, // on disk and on tape
  migrated,    // on tape only (the disk file is a stub)
  unknown,     // the backend cannot say, or replicas disagree
};

// Every state, in the order reports list them.
inline constexpr ObjectState k_object_states[] = {ObjectState::resident,
                                                  ObjectState::premigrated,
                                                  ObjectState::migrated,
                                                  ObjectState::unknown};

// The names the seed's documents, the queue's rows and the command lines
// use: "migrate", "recall", "status"; "resident", "premigrated", "migrated",
// "unknown".
std::string_view to_string(Operation operation);
std::string_view to_string(ObjectState state);
std::optional<Operation> parse_operation(std::string_view text);
std::optional<ObjectState> parse_object_state(std::string_view text);

} // namespace hlm
