#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/connector/connector.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/swift/client.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hlm::ctl {

// One object's state merged over its replicas: the replicas' common state,
// or unknown when they disagree or one could not be asked.
struct ObjectStatus
{
  std::string object; // "/account/container/object"
  ObjectState state = ObjectState::unknown;
  std::vector<std::string> errors; // replicas that could not say
  // Devices whose replica file is missing although the backend holds the
  // object: a recall rebuilds it there.
  std::vector<std::string> stub_missing_on;
};

struct StatusSummary
{
  std::size_t objects = 0;
  std::array<std::size_t, 4> per_state{}; // indexed by ObjectState
  std::size_t with_errors = 0;
  std::size_t with_stub_missing = 0; // objects with a non-empty stub_missing_on
};

// The synchronous status query: lists the target container through the
// proxy as the caller (streamed page by page), asks every node that holds a
// replica (the dispatcher's fan-out with op status, `conf.batch_size`
// objects per round), and reports each object in listing order. Throws
// hlm::SwiftError when the caller cannot see the target.
StatusSummary status(swift::Client& client,
                     const config::HlmConf& conf,
                     const ring::SwiftConf& swift_conf,
                     const dispatch::Fanout& fanout,
                     const queue::Target& target,
                     const std::function<void(const ObjectStatus&)>& on_object);

} // namespace hlm::ctl
