// The merge of an object's replicas into one state (ctl/status.hpp): the
// whole table, and whether the object is readable.

#include <hlm/ctl/status.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::ctl;

namespace {

constexpr auto R = ObjectState::resident;
constexpr auto P = ObjectState::premigrated;
constexpr auto M = ObjectState::migrated;
constexpr auto U = ObjectState::unknown;

std::vector<ReplicaStatus>
replicas(std::initializer_list<ObjectState> states, int error_at = -1)
{
  std::vector<ReplicaStatus> out;
  int i = 0;
  for (const auto state : states) {
    const bool error = i == error_at;
    out.push_back(
      ReplicaStatus{"sdb" + std::to_string(i + 1), "127.0.0.1", error ? U : state, error});
    ++i;
  }
  return out;
}

} // namespace

TEST_CASE("status merge: replicas in one state give that state", "[ctl][status]")
{
  for (const auto state : {R, P, M, U}) {
    CAPTURE(to_string(state));
    CHECK(merge_replica_states(replicas({state})) == state);
    CHECK(merge_replica_states(replicas({state, state, state})) == state);
  }
}

TEST_CASE("status merge: migrated beside premigrated is premigrated", "[ctl][status]")
{
  // What a recall of one copy of three leaves: readable, still on tape.
  CHECK(merge_replica_states(replicas({P, M, M})) == P);
  CHECK(merge_replica_states(replicas({M, M, P})) == P);
  CHECK(merge_replica_states(replicas({M, P})) == P);
  CHECK(merge_replica_states(replicas({P, P, M})) == P);
}

TEST_CASE("status merge: real conflicts are unknown", "[ctl][status]")
{
  // A migrate that half happened: resident beside a tape state.
  CHECK(merge_replica_states(replicas({R, M, M})) == U);
  CHECK(merge_replica_states(replicas({R, P})) == U);
  CHECK(merge_replica_states(replicas({R, P, M})) == U);
  // A replica whose backend answered unknown.
  CHECK(merge_replica_states(replicas({M, U, M})) == U);
  CHECK(merge_replica_states(replicas({P, U})) == U);
  CHECK(merge_replica_states(replicas({R, U})) == U);
}

TEST_CASE("status merge: a replica error or no answer is unknown", "[ctl][status]")
{
  CHECK(merge_replica_states({}) == U);
  CHECK(merge_replica_states(replicas({M, M, M}, 1)) == U);
  CHECK(merge_replica_states(replicas({P, M, M}, 0)) == U);
  CHECK(merge_replica_states(replicas({R}, 0)) == U);
}

TEST_CASE("status merge: readable when a replica has its data on disk", "[ctl][status]")
{
  CHECK(any_replica_readable(replicas({R, R, R})));
  CHECK(any_replica_readable(replicas({P, M, M})));
  CHECK(any_replica_readable(replicas({M, M, R}))); // unknown state, yet readable
  CHECK(any_replica_readable(replicas({P, M}, 1)));
  CHECK_FALSE(any_replica_readable(replicas({M, M, M})));
  CHECK_FALSE(any_replica_readable(replicas({U, M})));
  CHECK_FALSE(any_replica_readable({}));
  // The one premigrated replica could not answer: its data is not known to
  // be there.
  CHECK_FALSE(any_replica_readable(replicas({P, M, M}, 0)));
}
