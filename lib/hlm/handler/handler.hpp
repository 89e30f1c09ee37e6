#pragma once

#include <hlm/connector/connector.hpp>
#include <hlm/handler/object_server_conf.hpp>
#include <hlm/protocol/request.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/ring/swift_conf.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace hlm::handler {

// The result lines written, and how many succeeded and failed.
using Summary = protocol::ResultSummary;

struct HandlerOptions
{
  std::filesystem::path swift_dir;
  int storage_policy_index = 0;
  // Objects handed to the connector per call; bounds memory for huge lists.
  std::size_t batch_size = 10'000;
  // Devices whose replicas are looked at at once, each on a thread of its
  // own (a node's devices are separate disks); 1: one after another.
  std::size_t device_threads = 1;
  // While the document is being produced, a single space is written (and
  // `out` flushed) this often, so that a dispatcher's idle timer can be
  // much shorter than a backend call (a tape recall may take an hour).
  // Zero: never.
  std::chrono::milliseconds heartbeat{0};
};

// One object server of this host and the connector its [hlm] section
// configures. A host may run several (one per device in the test cluster);
// each device belongs to the first server whose `devices` root holds it.
struct LocalServer
{
  const ObjectServerConf* conf = nullptr;
  // Null when the backend could not be opened; `unavailable` says why, and
  // every replica on this server's devices fails with that reason while
  // the other servers of the host carry on.
  connector::Connector* connector = nullptr;
  std::string unavailable;
};

// What the requests of one hlm-handler process share, so that a session
// of many request documents pays once for it: the object ring and the guard
// warnings per swift_dir and policy (the ring is read again when its file
// changes: another inode, size or modification time), the buffers of the
// directory scan and of the metadata reads, and the heartbeat thread. Use
// it with one `servers` list and one `out` stream, from one thread.
class HandlerSession
{
public:
  HandlerSession();
  ~HandlerSession();
  HandlerSession(const HandlerSession&) = delete;
  HandlerSession& operator=(const HandlerSession&) = delete;

  // How many times an object ring was read (loaded) so far.
  std::size_t ring_loads() const noexcept;

  struct State; // handler.cpp
  State&
  state() noexcept
  {
    return *m_state;
  }

private:
  std::unique_ptr<State> m_state;
};

// Runs `request` on this host (its policy and hash secret from
// `swift_conf`, the ring from options.swift_dir): maps every object to its replica's .data
// file on the local devices of `servers`, hands the located replicas to
// each server's connector batch by batch, and streams the result document
// (protocol/result.hpp) to `out` as its lines are known:
//
//   {"request":"status","version":1,"storage_policy_index":0,"objects":[
//   {"object":"/a/c/o","device":"sdb1","file":"/srv/…/….data",
//    "status":"resident","error":null}, …],
//    "summary":{"objects":N,"ok":N,"failed":0}}
//
// (the seed's status shape, extended; "warnings": [...] before "objects" when
// guard_warnings() finds this node's Swift not set up to keep migrated
// replicas safe), plus the heartbeat's spaces between
// tokens, where JSON allows whitespace; none after the final newline. An
// object with no replica here, on a device that is not local, or deleted is
// reported in its own line with an `error`; so is every object of a batch
// the connector failed as a whole. A replica with no .data file (and no
// tombstone) goes, for status and recall, to a connector whose
// can_rebuild() is true, as an Item with an empty file and its object_dir;
// a recall that rebuilt it reports the new file, and a line of a replica
// still without a file that the connector answered for says
// "stub": "missing". Other connectors never see such replicas: their lines
// say "object is not on this device".
// Throws hlm::ConfigError before writing anything when swift.conf, the
// policy or the ring is unusable.
Summary run_request(const protocol::Request& request,
                    const ring::SwiftConf& swift_conf,
                    const std::vector<LocalServer>& servers,
                    const HandlerOptions& options,
                    std::ostream& out,
                    HandlerSession& session);

// run_request() of `request` (whose objects are not looked at) for the
// objects of `paths`, each on every local device that the ring names for
// it: object lines, read a batch at a time (protocol::ObjectPathSpool, of
// which this takes every batch), so that a list of any length is worked in
// the memory of one batch.
Summary run_request(const protocol::Request& request,
                    protocol::ObjectPathSpool& paths,
                    const ring::SwiftConf& swift_conf,
                    const std::vector<LocalServer>& servers,
                    const HandlerOptions& options,
                    std::ostream& out,
                    HandlerSession& session);

// run_request() in a session of its own.
Summary run_request(const protocol::Request& request,
                    const ring::SwiftConf& swift_conf,
                    const std::vector<LocalServer>& servers,
                    const HandlerOptions& options,
                    std::ostream& out);

} // namespace hlm::handler
