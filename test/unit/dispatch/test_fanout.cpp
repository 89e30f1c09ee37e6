#include "../support/batch_transport.hpp"
#include "../support/ring_writer.hpp"

#include <hlm/dispatch/fanout.hpp>
#include <hlm/dispatch/stream.hpp>
#include <hlm/protocol/request.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

using namespace hlm;
using namespace hlm::dispatch;

namespace {

// Intentionally simplistic: answers a handler document the way hlm-handler
// would, with every object `migrated`, except on hosts told to fail.
struct FakeNodes
{
  std::mutex mutex;
  std::map<std::string, protocol::Request> documents; // host → request seen
  std::map<std::string, std::vector<std::string>> argv;
  std::string unreachable;                    // this host throws TransportError
  std::string garbage;                        // this host answers non-JSON, exit 1
  std::string one_failure;                    // this host fails its first object
  std::string stub_missing;                   // every replica of this object: "stub": "missing"
  std::string unguarded;                      // this host warns that its Swift is not guarded
  std::string deleted;                        // every replica of this object: deleted
  std::string buggy;                          // this host throws std::logic_error (a bug)
  std::map<std::string, int> transports_made; // host → transports the factory made
  // Called (unlocked) as each host's document arrives, before it is answered.
  std::function<void(const protocol::Request&)> on_request;

  TransportFactory
  factory()
  {
    return [this](const config::NodeAccess& access) -> std::unique_ptr<transport::Transport> {
      {
        std::lock_guard lock(mutex);
        ++transports_made[access.address];
      }
      return std::make_unique<Node>(*this, access.address, access);
    };
  }

  class Node final : public test::BatchTransport
  {
  public:
    Node(FakeNodes& nodes, std::string host, config::NodeAccess access)
      : m_nodes(nodes),
        m_host(std::move(host)),
        m_access(std::move(access))
    {
    }
    std::string
    describe() const override
    {
      return "fake " + m_host;
    }
    transport::RunResult
    run_batch(const std::vector<std::string>& argv,
              std::string_view input,
              const transport::OutputCallback& on_output) override
    {
      std::istringstream in{std::string(input)};
      const auto request = protocol::read_request_document(in);
      if (m_nodes.on_request) {
        m_nodes.on_request(request);
      }
      {
        std::lock_guard lock(m_nodes.mutex);
        m_nodes.documents[m_host] = request;
        m_nodes.argv[m_host] = argv;
      }
      if (m_host == m_nodes.unreachable) {
        throw TransportError("connection refused", true);
      }
      if (m_host == m_nodes.buggy) {
        throw std::logic_error("a bug");
      }
      if (m_host == m_nodes.garbage) {
        on_output("not json");
        return {1, std::nullopt, "hlm-handler: error: bad config\n"};
      }
      protocol::ResultDocument answer;
      answer.operation = request.operation;
      if (m_host == m_nodes.unguarded) {
        answer.warnings = {"reads of migrated objects on this node are not guarded"};
      }
      for (const auto& object : request.objects) {
        protocol::ResultLine line;
        line.object = object.path;
        line.device = request.devices.at(object.device);
        line.state = ObjectState::migrated;
        if (m_host == m_nodes.one_failure && answer.lines.empty()) {
          line.state = ObjectState::unknown;
          line.failure = make_failure(FailureKind::backend, "backend failed: tape offline");
        }
        if (object.path == m_nodes.deleted) {
          line.state = ObjectState::unknown;
          line.failure = make_failure(FailureKind::deleted, "object is deleted on this device");
        }
        line.stub_missing = object.path == m_nodes.stub_missing;
        answer.lines.push_back(line);
        answer.summary.add(line);
      }
      on_output(protocol::encode_result(answer));
      return {0, std::nullopt, ""};
    }

  private:
    FakeNodes& m_nodes;
    std::string m_host;
    config::NodeAccess m_access;
  };
};

// Four devices on two hosts: sdb1, sdb2 on 10.0.0.1; sdb3, sdb4 on 10.0.0.2.
ring::Ring
two_host_ring()
{
  auto spec = test::simple_ring(6, 3);
  for (int i = 0; i < 4; ++i) {
    spec.devs[static_cast<std::size_t>(i)]["ip"] = i < 2 ? "10.0.0.1" : "10.0.0.2";
  }
  return ring::Ring::parse(test::serialize(spec), "two-host");
}

} // namespace

TEST_CASE("Fanout sends one document per host with every device of that host", "[dispatch]")
{
  FakeNodes nodes;
  config::HlmConf conf;
  conf.node_defaults.handler = "/opt/hlm-handler";
  conf.node_defaults.object_server_confs = {"/etc/swift/object-server/"};
  const auto ring = two_host_ring();
  const std::vector<std::string> objects = {"/a/c/o1", "/a/c/o2", "/a/c/dir/o 3"};
  std::vector<ReplicaOutcome> outcomes;
  Fanout(conf, nodes.factory())
    .run(Operation::migrate, 1, ring, {"p", "s"}, objects, [&](const ReplicaOutcome& o) {
      outcomes.push_back(o);
    });

  CHECK(nodes.documents.size() == 2);
  // 3 replicas per object over 2 hosts: 9 replicas in all.
  CHECK(outcomes.size() == 9);
  std::size_t sent = 0;
  for (const auto& [host, document] : nodes.documents) {
    CHECK(document.operation == Operation::migrate);
    CHECK(document.storage_policy_index == 1);
    sent += document.objects.size();
    CHECK(nodes.argv[host]
          == std::vector<std::string>{"/opt/hlm-handler",
                                      "--object-server-conf",
                                      "/etc/swift/object-server/"});
  }
  CHECK(sent == 9);
  for (const auto& outcome : outcomes) {
    CHECK_FALSE(outcome.failure);
    CHECK(outcome.state == ObjectState::migrated);
  }
}

TEST_CASE("Fanout: a failing host fails only its own replicas, with the cause", "[dispatch]")
{
  FakeNodes nodes;
  config::HlmConf conf;
  const auto ring = two_host_ring();
  const std::vector<std::string> objects = {"/a/c/o1", "/a/c/o2"};

  const auto run = [&] {
    std::map<std::string, std::vector<ReplicaOutcome>> by_host;
    Fanout(conf, nodes.factory())
      .run(Operation::recall, 0, ring, {"p", "s"}, objects, [&](const ReplicaOutcome& o) {
        by_host[o.host].push_back(o);
      });
    return by_host;
  };

  nodes.unreachable = "10.0.0.2";
  auto by_host = run();
  for (const auto& o : by_host["10.0.0.1"]) {
    CHECK_FALSE(o.failure);
  }
  REQUIRE_FALSE(by_host["10.0.0.2"].empty());
  for (const auto& o : by_host["10.0.0.2"]) {
    REQUIRE(o.failure);
    CHECK_THAT(o.failure->message,
               Catch::Contains("node 10.0.0.2") && Catch::Contains("connection refused"));
    CHECK(o.failure->kind == FailureKind::unreachable);
    CHECK(o.failure->transient);
    CHECK(o.failure->node == "10.0.0.2");
  }

  nodes.unreachable.clear();
  nodes.garbage = "10.0.0.1";
  by_host = run();
  for (const auto& o : by_host["10.0.0.1"]) {
    REQUIRE(o.failure);
    CHECK_THAT(o.failure->message,
               Catch::Contains("exit status 1") && Catch::Contains("bad config"));
    CHECK(o.failure->kind == FailureKind::node);
  }

  nodes.garbage.clear();
  nodes.one_failure = "10.0.0.2";
  by_host = run();
  std::size_t failed = 0;
  for (const auto& o : by_host["10.0.0.2"]) {
    if (o.failure) {
      ++failed;
      CHECK_THAT(o.failure->message,
                 Catch::Contains("tape offline") && Catch::Contains("device sdb"));
      CHECK(o.failure->kind == FailureKind::backend);
      CHECK(o.failure->transient);
    }
  }
  CHECK(failed == 1);
}

TEST_CASE("Fanout carries a replica's missing stub", "[dispatch]")
{
  FakeNodes nodes;
  nodes.stub_missing = "/a/c/lost";
  config::HlmConf conf;
  const auto ring = two_host_ring();
  const std::vector<std::string> objects = {"/a/c/lost", "/a/c/here"};
  std::vector<ReplicaOutcome> outcomes;
  Fanout(conf, nodes.factory())
    .run(Operation::status, 0, ring, {"p", "s"}, objects, [&](const ReplicaOutcome& o) {
      outcomes.push_back(o);
    });
  REQUIRE(outcomes.size() == 6);
  for (const auto& outcome : outcomes) {
    CHECK(outcome.stub_missing == (outcome.object == 0));
    CHECK(outcome.state == ObjectState::migrated);
  }
}

TEST_CASE("Fanout reports a node's warnings once per host and keeps its transport", "[dispatch]")
{
  FakeNodes nodes;
  nodes.unguarded = "10.0.0.2";
  config::HlmConf conf;
  const auto ring = two_host_ring();
  std::vector<std::string> warnings;
  const Fanout fanout(conf, nodes.factory(), [&](const std::string& warning) {
    warnings.push_back(warning);
  });
  std::size_t outcomes = 0;
  for (int round = 0; round < 3; ++round) {
    fanout.run(Operation::status,
               0,
               ring,
               {"p", "s"},
               {"/a/c/o1", "/a/c/o2"},
               [&](const ReplicaOutcome& o) {
                 CHECK_FALSE(o.failure);
                 ++outcomes;
               });
  }
  CHECK(outcomes == 3 * 6);
  // One transport per host for the Fanout's lifetime (one ssh session).
  CHECK(nodes.transports_made == std::map<std::string, int>{{"10.0.0.1", 1}, {"10.0.0.2", 1}});
  CHECK(warnings
        == std::vector<std::string>{
          "node 10.0.0.2: reads of migrated objects on this node are not guarded"});
}

TEST_CASE("Fanout: a deleted object fails for good; a bug is not a replica failure", "[dispatch]")
{
  FakeNodes nodes;
  nodes.deleted = "/a/c/gone";
  config::HlmConf conf;
  const auto ring = two_host_ring();
  std::vector<ReplicaOutcome> outcomes;
  Fanout(conf, nodes.factory())
    .run(Operation::migrate,
         0,
         ring,
         {"p", "s"},
         {"/a/c/gone", "/a/c/here"},
         [&](const ReplicaOutcome& o) { outcomes.push_back(o); });
  REQUIRE(outcomes.size() == 6);
  for (const auto& outcome : outcomes) {
    CHECK(outcome.failure.has_value() == (outcome.object == 0));
    if (outcome.failure) {
      CHECK(outcome.failure->kind == FailureKind::deleted);
      CHECK_FALSE(outcome.failure->transient);
      CHECK_THAT(outcome.failure->message, Catch::Contains("object is deleted on this device"));
    }
  }

  nodes.buggy = "10.0.0.1";
  outcomes.clear();
  CHECK_THROWS_AS(Fanout(conf, nodes.factory())
                    .run(Operation::migrate,
                         0,
                         ring,
                         {"p", "s"},
                         {"/a/c/here"},
                         [&](const ReplicaOutcome& o) { outcomes.push_back(o); }),
                  std::logic_error);
  CHECK(outcomes.empty());
}

TEST_CASE("StreamingFanout: the caller goes on adding while a host works", "[dispatch][stream]")
{
  FakeNodes nodes;
  config::HlmConf conf;
  conf.session_chunk = 2;
  const auto ring = two_host_ring();
  const Fanout fanout(conf, nodes.factory());
  // The first document waits until the caller has added ten more objects:
  // add() must not wait for a host's answer.
  std::atomic<int> added{0};
  std::atomic<bool> first{true};
  bool overlapped = false;
  nodes.on_request = [&](const protocol::Request&) {
    if (!first.exchange(false)) {
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (added < 12 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    overlapped = added >= 12;
  };
  std::vector<std::string> paths;
  StreamingFanout stream(
    fanout,
    Operation::status,
    0,
    ring,
    {"p", "s"},
    [&](std::size_t, const std::string& path, const std::vector<ReplicaOutcome>& replicas) {
      CHECK(replicas.size() == 3);
      paths.push_back(path);
    });
  for (int i = 0; i < 20; ++i) {
    stream.add("/a/c/o" + std::to_string(i));
    ++added;
  }
  stream.finish();
  CHECK(overlapped);
  REQUIRE(paths.size() == 20);
  CHECK(paths.back() == "/a/c/o19");
}

namespace {

// Intentionally simplistic hlm-handler sessions: each channel is one
// handler process that answers every document as it is sent (every replica
// `migrated`, a version 2 document's id echoed). Hosts in `refuse_v2` run an
// hlm-handler from before version 2: a version 2 document gets nothing on
// stdout and exit status 1. A host in `die_at` has its handler killed
// halfway through the answer to its Nth document (counted over the run).
struct SessionNodes
{
  std::mutex mutex;
  std::map<std::string, int> starts;                // host → handler processes
  std::map<std::string, int> transports_made;       // host → transports
  std::map<std::string, std::vector<int>> versions; // host → each document's version
  std::map<std::string, int> finished;              // host → channels ended by finish()
  std::set<std::string> refuse_v2;
  std::map<std::string, int> die_at;
  // These hosts' handlers answer only at the end of their input (they
  // read all of it first), as a wrapper that collects the output would.
  std::set<std::string> answer_at_eof;
  // A host in `dead_from` has its handler killed halfway through the
  // answer to its Nth document and every later one; once killed, the host
  // refuses connections (start throws TransportError).
  std::map<std::string, int> dead_from;
  std::set<std::string> died;
  std::map<std::string, std::chrono::milliseconds> delay;         // before each answer
  std::map<std::string, std::size_t> answered;                    // host → replicas answered
  std::map<std::string, std::vector<std::size_t>> document_sizes; // host → each document's replicas
  std::set<std::string> buggy; // these hosts' channels throw std::logic_error (a bug)

  TransportFactory
  factory()
  {
    return [this](const config::NodeAccess& access) -> std::unique_ptr<transport::Transport> {
      const std::lock_guard lock(mutex);
      ++transports_made[access.address];
      return std::make_unique<Node>(*this, access.address);
    };
  }

  class Channel final : public transport::Channel
  {
  public:
    Channel(SessionNodes& nodes, std::string host, transport::OutputCallback on_output)
      : m_nodes(nodes),
        m_host(std::move(host)),
        m_on_output(std::move(on_output))
    {
    }

    bool
    send(std::string_view data) override
    {
      if (m_result.exit_status || m_result.signal) {
        m_result.input_truncated = true;
        return false;
      }
      if (m_nodes.buggy.count(m_host)) {
        throw std::logic_error("a bug");
      }
      const auto delay = m_nodes.delay.find(m_host);
      if (delay != m_nodes.delay.end()) {
        std::this_thread::sleep_for(delay->second);
      }
      std::istringstream in{std::string(data)};
      const auto request = protocol::read_request_document(in);
      int number = 0;
      {
        const std::lock_guard lock(m_nodes.mutex);
        m_nodes.versions[m_host].push_back(request.version);
        number = static_cast<int>(m_nodes.versions[m_host].size());
      }
      if (request.version == 2 && m_nodes.refuse_v2.count(m_host)) {
        m_result.exit_status = 1;
        m_result.error_output =
          "hlm-handler: error: request document version 2; this hlm-handler reads version 1\n";
        return true;
      }
      protocol::ResultDocument answer;
      answer.operation = request.operation;
      answer.id = request.version == 2 ? request.id : std::nullopt;
      for (const auto& object : request.objects) {
        protocol::ResultLine line;
        line.object = object.path;
        line.device = request.devices.at(object.device);
        line.state = ObjectState::migrated;
        answer.lines.push_back(line);
        answer.summary.add(line);
      }
      const auto text = protocol::encode_result(answer);
      const auto die = m_nodes.die_at.find(m_host);
      const auto dead = m_nodes.dead_from.find(m_host);
      if ((die != m_nodes.die_at.end() && die->second == number)
          || (dead != m_nodes.dead_from.end() && dead->second <= number)) {
        m_on_output(text.substr(0, text.size() / 2));
        m_result.signal = "KILL";
        m_result.error_output = "killed\n";
        const std::lock_guard lock(m_nodes.mutex);
        m_nodes.died.insert(m_host);
        return true;
      }
      {
        const std::lock_guard lock(m_nodes.mutex);
        m_nodes.answered[m_host] += request.objects.size();
        m_nodes.document_sizes[m_host].push_back(request.objects.size());
      }
      if (m_nodes.answer_at_eof.count(m_host)) {
        m_at_eof += text;
        return true;
      }
      // Heartbeat spaces, then the answer in two pieces.
      m_on_output("  ");
      m_on_output(text.substr(0, 10));
      m_on_output(text.substr(10));
      return true;
    }

    bool
    wait_for(const std::function<bool()>& done) override
    {
      return done(); // everything was answered in send
    }

    transport::RunResult
    finish() override
    {
      {
        const std::lock_guard lock(m_nodes.mutex);
        ++m_nodes.finished[m_host];
      }
      m_on_output(m_at_eof);
      if (!m_result.exit_status && !m_result.signal) {
        m_result.exit_status = 0;
      }
      return m_result;
    }

  private:
    SessionNodes& m_nodes;
    std::string m_host;
    transport::OutputCallback m_on_output;
    transport::RunResult m_result;
    std::string m_at_eof; // answered at the end of the input
  };

  class Node final : public transport::Transport
  {
  public:
    Node(SessionNodes& nodes, std::string host)
      : m_nodes(nodes),
        m_host(std::move(host))
    {
    }
    std::string
    describe() const override
    {
      return "session " + m_host;
    }
    std::unique_ptr<transport::Channel>
    start(const std::vector<std::string>&, transport::OutputCallback on_output) override
    {
      {
        const std::lock_guard lock(m_nodes.mutex);
        ++m_nodes.starts[m_host];
        if (m_nodes.died.count(m_host) && m_nodes.dead_from.count(m_host)) {
          throw TransportError("connection refused", true);
        }
      }
      return std::make_unique<Channel>(m_nodes, m_host, std::move(on_output));
    }

  private:
    SessionNodes& m_nodes;
    std::string m_host;
  };
};

const std::vector<std::string> k_session_objects = {"/a/c/o1", "/a/c/o2", "/a/c/o3"};

// The outcomes of one run of `fanout` over k_session_objects.
std::vector<ReplicaOutcome>
run_once(const Fanout& fanout, const ring::Ring& ring)
{
  std::vector<ReplicaOutcome> outcomes;
  fanout.run(Operation::migrate,
             0,
             ring,
             {"p", "s"},
             k_session_objects,
             [&](const ReplicaOutcome& o) { outcomes.push_back(o); });
  return outcomes;
}

} // namespace

TEST_CASE("Fanout: one handler per host for every round, answers matched by id", "[dispatch]")
{
  SessionNodes nodes;
  config::HlmConf conf;
  conf.session_chunk = 2;
  const auto ring = two_host_ring();
  std::size_t objects = 0;
  std::size_t migrated = 0;
  {
    const Fanout fanout(conf, nodes.factory());
    StreamingFanout stream(
      fanout,
      Operation::migrate,
      0,
      ring,
      {"p", "s"},
      [&](std::size_t, const std::string&, const std::vector<ReplicaOutcome>& replicas) {
        ++objects;
        for (const auto& outcome : replicas) {
          CHECK_FALSE(outcome.failure);
          migrated += outcome.state == ObjectState::migrated;
        }
      });
    for (int i = 0; i < 6; ++i) {
      stream.add("/a/c/o" + std::to_string(i));
    }
    stream.finish();
    CHECK(nodes.finished.empty()); // the sessions stay open between documents
    fanout.run(Operation::migrate, 0, ring, {"p", "s"}, {"/a/c/x"}, [&](const ReplicaOutcome& o) {
      CHECK_FALSE(o.failure);
    });
    CHECK(nodes.finished.empty()); // and are used by run() too
  }
  CHECK(objects == 6);
  CHECK(migrated == 6 * 3);
  const std::map<std::string, int> one_each{{"10.0.0.1", 1}, {"10.0.0.2", 1}};
  CHECK(nodes.starts == one_each);
  CHECK(nodes.transports_made == one_each);
  CHECK(nodes.finished == one_each); // ended with the Fanout
  for (const auto& [host, versions] : nodes.versions) {
    INFO(host);
    CHECK(versions.size() >= 3); // 9 replicas per host at most, 2 a document
    CHECK(std::all_of(versions.begin(), versions.end(), [](int v) { return v == 2; }));
  }
}

TEST_CASE("Fanout: a handler that refuses version 2 gets version 1, one process per round",
          "[dispatch]")
{
  SessionNodes nodes;
  nodes.refuse_v2 = {"10.0.0.2"};
  config::HlmConf conf;
  const auto ring = two_host_ring();
  const Fanout fanout(conf, nodes.factory());
  for (int round = 0; round < 3; ++round) {
    const auto outcomes = run_once(fanout, ring);
    CHECK(outcomes.size() == 9); // every replica answered, none twice
    for (const auto& outcome : outcomes) {
      CHECK_FALSE(outcome.failure);
      CHECK(outcome.state == ObjectState::migrated);
    }
  }
  // The refused document is sent again as version 1, and so is every
  // later round's, each to a handler of its own.
  CHECK(nodes.versions["10.0.0.2"] == std::vector<int>{2, 1, 1, 1});
  CHECK(nodes.starts["10.0.0.2"] == 4);
  CHECK(nodes.versions["10.0.0.1"] == std::vector<int>{2, 2, 2});
  CHECK(nodes.starts["10.0.0.1"] == 1);
  CHECK(nodes.transports_made["10.0.0.2"] == 1);
}

TEST_CASE("Fanout: a session that dies fails only that host's replicas of that round", "[dispatch]")
{
  SessionNodes nodes;
  nodes.die_at = {{"10.0.0.1", 2}};
  config::HlmConf conf;
  const auto ring = two_host_ring();
  const Fanout fanout(conf, nodes.factory());
  const auto count = [](const std::vector<ReplicaOutcome>& outcomes, const std::string& host) {
    std::size_t failed = 0;
    std::size_t ok = 0;
    for (const auto& outcome : outcomes) {
      if (outcome.host == host) {
        (outcome.failure ? failed : ok) += 1;
      }
    }
    return std::make_pair(failed, ok);
  };
  const auto first = run_once(fanout, ring);
  const auto second = run_once(fanout, ring);
  const auto third = run_once(fanout, ring);
  CHECK(count(first, "10.0.0.1").first == 0);
  const auto [failed, ok] = count(second, "10.0.0.1");
  CHECK(failed > 0);
  CHECK(ok == 0);
  CHECK(count(second, "10.0.0.2") == count(first, "10.0.0.2")); // the other host is untouched
  for (const auto& outcome : second) {
    if (outcome.failure) {
      CHECK(outcome.failure->kind == FailureKind::node);
      CHECK_THAT(outcome.failure->message,
                 Catch::Contains("node 10.0.0.1 (session 10.0.0.1): hlm-handler failed "
                                 "(signal KILL): killed"));
    }
  }
  CHECK(count(third, "10.0.0.1") == count(first, "10.0.0.1")); // a new session answers again
  CHECK(nodes.starts["10.0.0.1"] == 2);
  CHECK(nodes.transports_made["10.0.0.1"] == 2); // the failed one was dropped
  CHECK(nodes.starts["10.0.0.2"] == 1);
  CHECK(nodes.versions["10.0.0.1"] == std::vector<int>{2, 2, 2});
}

TEST_CASE("Fanout: an answer to another document fails the round and the session", "[dispatch]")
{
  // A handler that echoes a wrong id: its lines are not trusted.
  struct WrongId final : transport::Transport
  {
    int* starts;
    std::string
    describe() const override
    {
      return "wrong";
    }
    std::unique_ptr<transport::Channel>
    start(const std::vector<std::string>&, transport::OutputCallback on_output) override
    {
      ++*starts;
      struct Answering final : transport::Channel
      {
        transport::OutputCallback out;
        bool
        send(std::string_view data) override
        {
          std::istringstream in{std::string(data)};
          const auto request = protocol::read_request_document(in);
          protocol::ResultDocument answer;
          answer.id = *request.id + 1;
          for (const auto& object : request.objects) {
            protocol::ResultLine line;
            line.object = object.path;
            line.state = ObjectState::migrated;
            answer.lines.push_back(line);
          }
          out(protocol::encode_result(answer));
          return true;
        }
        bool
        wait_for(const std::function<bool()>& done) override
        {
          return done();
        }
        transport::RunResult
        finish() override
        {
          return {0, std::nullopt, ""};
        }
      };
      auto channel = std::make_unique<Answering>();
      channel->out = std::move(on_output);
      return channel;
    }
  };
  int starts = 0;
  config::HlmConf conf;
  const Fanout fanout(conf, [&](const config::NodeAccess&) {
    auto transport = std::make_unique<WrongId>();
    transport->starts = &starts;
    return transport;
  });
  const auto ring = two_host_ring();
  for (int round = 0; round < 2; ++round) {
    for (const auto& outcome : run_once(fanout, ring)) {
      REQUIRE(outcome.failure);
      CHECK_THAT(outcome.failure->message, Catch::Contains("hlm-handler answered document"));
    }
  }
  CHECK(starts == 4); // two hosts, a new session each round
}

TEST_CASE("Fanout: a handler that answers only at the end of its input gets version 1",
          "[dispatch]")
{
  SessionNodes nodes;
  nodes.answer_at_eof = {"10.0.0.1"};
  config::HlmConf conf;
  const auto ring = two_host_ring();
  const Fanout fanout(conf, nodes.factory());
  for (int round = 0; round < 3; ++round) {
    const auto outcomes = run_once(fanout, ring);
    CHECK(outcomes.size() == 9);
    for (const auto& outcome : outcomes) {
      CHECK_FALSE(outcome.failure);
    }
  }
  // The first document's answer came with its EOF and stands; then one
  // process per round.
  CHECK(nodes.versions["10.0.0.1"] == std::vector<int>{2, 1, 1});
  CHECK(nodes.starts["10.0.0.1"] == 3);
  CHECK(nodes.starts["10.0.0.2"] == 1);
}

namespace {

// sdb1 on 10.0.0.1, sdb2 on 10.0.0.2, sdb3 on 10.0.0.3 (sdb4 holds
// nothing): every object has one replica on each of the three hosts.
ring::Ring
three_host_ring()
{
  auto spec = test::simple_ring(6, 3);
  for (std::size_t i = 0; i < 4; ++i) {
    spec.devs[i]["ip"] = "10.0.0." + std::to_string(i % 3 + 1);
  }
  for (std::size_t r = 0; r < spec.replica2part2dev.size(); ++r) {
    auto& row = spec.replica2part2dev[r];
    for (std::size_t p = 0; p < row.size(); ++p) {
      row[p] = static_cast<std::uint16_t>((p + r) % 3);
    }
  }
  return ring::Ring::parse(test::serialize(spec), "three-host");
}

// What a stream passed on, and the most objects it held as the caller
// counts them (added, not yet passed on).
struct Passed
{
  std::vector<std::size_t> numbers;
  std::vector<std::string> paths;
  std::vector<std::vector<ReplicaOutcome>> replicas;
  std::size_t added = 0;
  std::size_t most_held = 0;

  StreamingFanout::OnObject
  sink()
  {
    return [this](std::size_t number,
                  const std::string& path,
                  const std::vector<ReplicaOutcome>& outcomes) {
      numbers.push_back(number);
      paths.push_back(path);
      replicas.push_back(outcomes);
    };
  }

  void
  add(StreamingFanout& stream, std::size_t count)
  {
    for (std::size_t i = 0; i < count; ++i) {
      ++added;
      stream.add("/a/c/o" + std::to_string(i));
      most_held = std::max(most_held, added - numbers.size());
    }
    stream.finish();
  }
};

} // namespace

TEST_CASE("StreamingFanout passes objects on in listing order with hosts at different speeds",
          "[dispatch][stream]")
{
  SessionNodes nodes;
  using std::chrono::milliseconds;
  nodes.delay = {{"10.0.0.1", milliseconds(0)},
                 {"10.0.0.2", milliseconds(3)},
                 {"10.0.0.3", milliseconds(10)}};
  config::HlmConf conf;
  conf.session_chunk = 7;
  const auto ring = three_host_ring();
  const Fanout fanout(conf, nodes.factory());
  Passed passed;
  StreamingFanout stream(fanout, Operation::status, 0, ring, {"p", "s"}, passed.sink());
  const auto caller = std::this_thread::get_id();
  passed.add(stream, 200);
  CHECK(std::this_thread::get_id() == caller);
  REQUIRE(passed.numbers.size() == 200);
  for (std::size_t i = 0; i < 200; ++i) {
    INFO(i);
    CHECK(passed.numbers[i] == i);
    CHECK(passed.paths[i] == "/a/c/o" + std::to_string(i));
    REQUIRE(passed.replicas[i].size() == 3);
    std::set<std::string> hosts;
    for (const auto& replica : passed.replicas[i]) {
      CHECK(replica.object == i);
      CHECK_FALSE(replica.failure);
      hosts.insert(replica.host);
    }
    CHECK(hosts.size() == 3);
  }
  // Two documents in flight on a session: the fast host did not wait for
  // the slow ones, each host got every one of its replicas once.
  CHECK(nodes.answered["10.0.0.2"] == 200);
  CHECK(nodes.answered["10.0.0.3"] == 200);
  CHECK(nodes.starts
        == std::map<std::string, int>{{"10.0.0.1", 1}, {"10.0.0.2", 1}, {"10.0.0.3", 1}});
}

TEST_CASE("StreamingFanout holds at most `window` objects behind a slow host", "[dispatch][stream]")
{
  SessionNodes nodes;
  nodes.delay = {{"10.0.0.3", std::chrono::milliseconds(5)}};
  config::HlmConf conf;
  conf.session_chunk = 4;
  conf.window = 10;
  const auto ring = three_host_ring();
  const Fanout fanout(conf, nodes.factory());
  Passed passed;
  StreamingFanout stream(fanout, Operation::status, 0, ring, {"p", "s"}, passed.sink());
  passed.add(stream, 150);
  CHECK(passed.numbers.size() == 150);
  CHECK(passed.most_held <= 10);
  CHECK(passed.most_held >= 4); // the window was used, not one object at a time
  CHECK(stream.most_held() <= 10);
}

TEST_CASE("StreamingFanout keeps documents whole once the window has filled", "[dispatch][stream]")
{
  SessionNodes nodes;
  nodes.delay = {{"10.0.0.3", std::chrono::milliseconds(5)}};
  config::HlmConf conf;
  conf.session_chunk = 8;
  conf.window = 30;
  // Six hosts, three replicas: hosts' chunks fill at different objects.
  auto spec = test::simple_ring(6, 3);
  for (std::size_t i = 0; i < spec.devs.size(); ++i) {
    spec.devs[i]["ip"] = "10.0.0." + std::to_string(i + 1);
  }
  const auto ring = ring::Ring::parse(test::serialize(spec), "six-host");
  const Fanout fanout(conf, nodes.factory());
  Passed passed;
  StreamingFanout stream(fanout, Operation::status, 0, ring, {"p", "s"}, passed.sink());
  passed.add(stream, 600);
  REQUIRE(passed.numbers.size() == 600);
  // Documents of 8 replicas but for the few the full window forced out
  // early (the oldest object's open chunks) and the last of each host.
  std::size_t documents = 0;
  std::size_t short_ones = 0;
  for (const auto& [host, sizes] : nodes.document_sizes) {
    documents += sizes.size();
    short_ones += static_cast<std::size_t>(
      std::count_if(sizes.begin(), sizes.end(), [](std::size_t size) { return size < 8; }));
  }
  INFO(short_ones << " of " << documents << " documents short");
  CHECK(short_ones <= documents / 4);
}

TEST_CASE("StreamingFanout: a host that dies fails exactly its remaining replicas",
          "[dispatch][stream]")
{
  SessionNodes nodes;
  nodes.dead_from = {{"10.0.0.2", 4}};
  config::HlmConf conf;
  conf.session_chunk = 5;
  const auto ring = three_host_ring();
  const Fanout fanout(conf, nodes.factory());
  Passed passed;
  StreamingFanout stream(fanout, Operation::migrate, 0, ring, {"p", "s"}, passed.sink());
  passed.add(stream, 100);
  REQUIRE(passed.numbers.size() == 100);
  std::map<std::string, std::size_t> ok;
  std::map<std::string, std::size_t> failed;
  for (const auto& replicas : passed.replicas) {
    REQUIRE(replicas.size() == 3);
    for (const auto& replica : replicas) {
      if (!replica.failure) {
        ++ok[replica.host];
        continue;
      }
      ++failed[replica.host];
      CHECK(replica.host == "10.0.0.2");
      CHECK(replica.failure->node == "10.0.0.2");
      CHECK_THAT(replica.failure->message, Catch::Contains("node 10.0.0.2"));
      CHECK((replica.failure->kind == FailureKind::node
             || replica.failure->kind == FailureKind::unreachable));
    }
  }
  // Its three documents before the fourth were answered, nothing after.
  CHECK(nodes.answered["10.0.0.2"] == 15);
  CHECK(ok["10.0.0.2"] == 15);
  CHECK(failed["10.0.0.2"] == 85);
  CHECK(ok["10.0.0.1"] == 100);
  CHECK(ok["10.0.0.3"] == 100);
  // One reconnect after the session died, then no more attempts.
  CHECK(nodes.transports_made["10.0.0.2"] == 2);
  CHECK(nodes.starts["10.0.0.2"] == 2);
}

TEST_CASE("StreamingFanout: a version 1 host runs one process per chunk beside the sessions",
          "[dispatch][stream]")
{
  SessionNodes nodes;
  nodes.refuse_v2 = {"10.0.0.3"};
  config::HlmConf conf;
  conf.session_chunk = 10;
  const auto ring = three_host_ring();
  const Fanout fanout(conf, nodes.factory());
  Passed passed;
  StreamingFanout stream(fanout, Operation::status, 0, ring, {"p", "s"}, passed.sink());
  passed.add(stream, 50);
  REQUIRE(passed.numbers.size() == 50);
  for (const auto& replicas : passed.replicas) {
    REQUIRE(replicas.size() == 3);
    for (const auto& replica : replicas) {
      CHECK_FALSE(replica.failure);
    }
  }
  // 50 replicas in chunks of 10: the refused document again as version 1,
  // and each later chunk a process of its own.
  CHECK(nodes.versions["10.0.0.3"] == std::vector<int>{2, 1, 1, 1, 1, 1});
  CHECK(nodes.starts["10.0.0.3"] == 6);
  CHECK(nodes.starts["10.0.0.2"] == 1);
  CHECK(nodes.answered["10.0.0.3"] == 50);
}

TEST_CASE("StreamingFanout rethrows a host's bug once every thread has ended", "[dispatch][stream]")
{
  SessionNodes nodes;
  nodes.buggy = {"10.0.0.2"};
  nodes.delay = {{"10.0.0.3", std::chrono::milliseconds(2)}};
  config::HlmConf conf;
  conf.session_chunk = 3;
  conf.window = 20;
  const auto ring = three_host_ring();
  const Fanout fanout(conf, nodes.factory());
  Passed passed;
  {
    StreamingFanout stream(fanout, Operation::status, 0, ring, {"p", "s"}, passed.sink());
    CHECK_THROWS_AS(passed.add(stream, 100), std::logic_error);
    // The others' threads have ended: no document is sent any more.
    const auto sent = nodes.versions;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::lock_guard lock(nodes.mutex);
    CHECK(nodes.versions == sent);
  }
  CHECK(passed.numbers.empty()); // every object waits for the buggy host's replica
}
