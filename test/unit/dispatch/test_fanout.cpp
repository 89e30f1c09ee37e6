#include "../support/batch_transport.hpp"
#include "../support/ring_writer.hpp"

#include <hlm/dispatch/fanout.hpp>
#include <hlm/protocol/request.hpp>
#include <hlm/protocol/result.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

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

TEST_CASE("FanoutRounds overlaps a running round with filling the next", "[dispatch]")
{
  FakeNodes nodes;
  config::HlmConf conf;
  conf.max_parallel_nodes = 1; // one host at a time: the hook sees one thread
  const auto ring = two_host_ring();
  const Fanout fanout(conf, nodes.factory());
  // The first round waits until the caller has added an object of the
  // second round: add() must not block on a running round.
  std::atomic<int> added{0};
  bool overlapped = false;
  bool first = true;
  nodes.on_request = [&](const protocol::Request& request) {
    if (!first || request.objects.empty() || request.objects[0].path != "/a/c/o0") {
      return;
    }
    first = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (added < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    overlapped = added >= 3;
  };
  const auto caller = std::this_thread::get_id();
  std::vector<std::vector<std::string>> rounds;
  std::size_t outcomes = 0;
  FanoutRounds fanout_rounds(
    fanout,
    2,
    Operation::status,
    0,
    ring,
    {"p", "s"},
    [&](const std::vector<std::string>& paths, const std::vector<ReplicaOutcome>& round_outcomes) {
      CHECK(std::this_thread::get_id() == caller);
      rounds.push_back(paths);
      outcomes += round_outcomes.size();
    });
  for (int i = 0; i < 5; ++i) {
    fanout_rounds.add("/a/c/o" + std::to_string(i));
    ++added;
  }
  fanout_rounds.flush();
  CHECK(overlapped);
  CHECK(rounds
        == std::vector<std::vector<std::string>>{{"/a/c/o0", "/a/c/o1"},
                                                 {"/a/c/o2", "/a/c/o3"},
                                                 {"/a/c/o4"}});
  CHECK(outcomes == 5 * 3);
}

TEST_CASE("FanoutRounds passes a round's bug to the caller", "[dispatch]")
{
  FakeNodes nodes;
  nodes.buggy = "10.0.0.1";
  config::HlmConf conf;
  const auto ring = two_host_ring();
  const Fanout fanout(conf, nodes.factory());
  int rounds = 0;
  FanoutRounds fanout_rounds(
    fanout,
    1,
    Operation::status,
    0,
    ring,
    {"p", "s"},
    [&](const std::vector<std::string>&, const std::vector<ReplicaOutcome>&) { ++rounds; });
  fanout_rounds.add("/a/c/o1"); // starts the round in the background
  CHECK_THROWS_AS(fanout_rounds.flush(), std::logic_error);
  CHECK(rounds == 0);
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
      if (die != m_nodes.die_at.end() && die->second == number) {
        m_on_output(text.substr(0, text.size() / 2));
        m_result.signal = "KILL";
        m_result.error_output = "killed\n";
        return true;
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
  const auto ring = two_host_ring();
  std::size_t rounds = 0;
  std::size_t migrated = 0;
  {
    const Fanout fanout(conf, nodes.factory());
    FanoutRounds batches(
      fanout,
      2,
      Operation::migrate,
      0,
      ring,
      {"p", "s"},
      [&](const std::vector<std::string>&, const std::vector<ReplicaOutcome>& outcomes) {
        ++rounds;
        for (const auto& outcome : outcomes) {
          CHECK_FALSE(outcome.failure);
          migrated += outcome.state == ObjectState::migrated;
        }
      });
    for (int i = 0; i < 6; ++i) {
      batches.add("/a/c/o" + std::to_string(i));
    }
    batches.flush();
    CHECK(nodes.finished.empty()); // the sessions stay open between rounds
  }
  CHECK(rounds == 3);
  CHECK(migrated == 6 * 3);
  const std::map<std::string, int> one_each{{"10.0.0.1", 1}, {"10.0.0.2", 1}};
  CHECK(nodes.starts == one_each);
  CHECK(nodes.transports_made == one_each);
  CHECK(nodes.finished == one_each); // ended with the Fanout
  for (const auto& [host, versions] : nodes.versions) {
    INFO(host);
    CHECK(versions == std::vector<int>{2, 2, 2});
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
