#pragma once

#include <hlm/core/operation.hpp>
#include <hlm/dispatch/fanout.hpp>
#include <hlm/ring/ring.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hlm::dispatch {

// Runs one operation of one policy over objects as they are added (while a
// listing goes on), through a Fanout's host links, and hands each object's
// outcome back complete, in the order the objects were added.
//
// add() places the object (its replicas' hosts and devices) and appends
// each replica to its host's open chunk; a chunk of `session_chunk` (or the
// given `chunk`) replicas goes to the host's queue. One thread per host (Fanout::serve; at
// most `max_parallel_nodes` with work at once) sends its chunks, two in
// flight on a version 2 session, and posts their outcomes. The calling
// thread takes the outcomes in add() and finish() and passes every object
// whose replicas have all answered, oldest first, to `on_object`. At most
// `window` objects are held: add() waits (still taking outcomes) while the
// oldest is `window` objects behind, so a slow host holds the others back
// only then, and memory stays bounded however many objects come. A host
// that fails fails its replicas (Fanout::serve), the others go on. A bug
// (an exception that is not an hlm::Error) in a host's thread comes out of
// add() or finish() once every thread has ended.
class StreamingFanout
{
public:
  // `number`: the object's place in the order of add() calls, from 0
  // (each replica's ReplicaOutcome::object).
  using OnObject = std::function<
    void(std::size_t number, const std::string& path, const std::vector<ReplicaOutcome>& replicas)>;

  // `fanout`, `object_ring` and `secret` must outlive this object.
  // `chunk`: replicas per document to a host; 0: the configuration's
  // session_chunk.
  StreamingFanout(const Fanout& fanout,
                  const HandlerWork& operation,
                  int policy_index,
                  const ring::Ring& object_ring,
                  const ring::HashSecret& secret,
                  OnObject on_object,
                  std::size_t chunk = 0);
  // Stops the hosts' threads (after the documents in flight) and waits for
  // them; objects not passed on yet are dropped.
  ~StreamingFanout();
  StreamingFanout(const StreamingFanout&) = delete;
  StreamingFanout& operator=(const StreamingFanout&) = delete;

  // Adds an "/account/container/object" path.
  void add(std::string path);
  // Sends what is left, passes every object on and ends the threads.
  void finish();

  // The most objects held at once (added, not yet passed on).
  std::size_t
  most_held() const
  {
    return m_most_held;
  }

private:
  struct Slot
  {
    std::string path;
    std::size_t expected = 0; // replicas
    std::vector<ReplicaOutcome> replicas;
  };
  class Source;
  struct Host
  {
    std::string ip;
    HostChunk open;              // being filled by add()
    std::deque<HostChunk> queue; // m_mutex
    bool working = false;        // holds one of the max_parallel_nodes; m_mutex
    std::unique_ptr<Source> source;
    std::thread thread;
  };

  Host& host(const std::string& ip);
  void push_open(Host& host);
  void push_all_open();
  // Sends the open chunks that hold a replica of object number `object`.
  void push_open_holding(std::size_t object);
  void take_outcomes(bool wait);
  void pass_on_complete();
  void stop();
  void rethrow_bug();

  const Fanout& m_fanout;
  HandlerWork m_operation;
  int m_policy;
  const ring::Ring& m_ring;
  ring::PathHasher m_hash;
  ring::NodeList m_nodes;
  OnObject m_on_object;
  std::size_t m_chunk;
  std::size_t m_window_size;

  std::deque<Slot> m_window; // object m_first first
  std::size_t m_first = 0;
  std::size_t m_most_held = 0;
  std::map<std::string, std::unique_ptr<Host>> m_hosts;

  std::mutex m_mutex;
  std::condition_variable m_work;     // a host's queue, m_closed, m_stop, m_free
  std::condition_variable m_answered; // m_outcomes, m_bug
  std::vector<std::vector<ReplicaOutcome>> m_outcomes;
  std::size_t m_free = 0; // of max_parallel_nodes
  bool m_closed = false;  // no more chunks come
  bool m_stop = false;    // stop at once
  std::exception_ptr m_bug;
};

} // namespace hlm::dispatch
