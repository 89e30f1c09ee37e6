// Integration test of lib/hlm/queue against a real Swift (test/saio/saio.py).
//
//   queue_integration [--stop-server] [SAIO_DIR]
//
// SAIO_DIR defaults to $HLM_SAIO_DIR; its cluster.json gives swift_dir.
// Everything is written under a fresh hidden account of its own
// (".hlm-queue-test-<pid>-<ms>"), never ".swifthlm", so other tests on a
// shared cluster are not disturbed. A node outage is simulated in the
// client by default; --stop-server really SIGSTOPs one container server
// (then SIGCONTs it): use it only on a private cluster.
//
// Exit status: 0 all checks passed, 1 a check failed, 125 no cluster
// (a failure under CI=true).

#include <hlm/queue/queue.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace hlm;
using namespace hlm::queue;

namespace {

int g_failures = 0;

void
check(bool ok, const std::string& what, const std::string& detail = {})
{
  if (ok) {
    std::cout << "ok - " << what << '\n';
  } else {
    ++g_failures;
    std::cout << "FAIL - " << what << (detail.empty() ? "" : ": " + printable(detail)) << '\n';
  }
}

// Runs one scenario; an exception fails it without stopping the others.
void
scenario(const std::string& name, const std::function<void()>& body)
{
  std::cout << "# " << name << '\n';
  try {
    body();
  } catch (const std::exception& e) {
    check(false, name + " threw", e.what());
  }
}

// Passes requests on, except to "ip:port"s marked down: those fail as an
// unreachable server would.
class FaultyClient : public swift::HttpClient
{
public:
  explicit FaultyClient(swift::HttpClient& inner)
    : m_inner(inner)
  {
  }

  std::set<std::string> down;

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    for (const auto& host : down) {
      if (request.url.rfind("http://" + host + "/", 0) == 0) {
        throw TransportError("simulated: connection refused by " + host, true);
      }
    }
    return m_inner.send(request);
  }

private:
  swift::HttpClient& m_inner;
};

std::string
host_of(const ring::Device& node)
{
  return fmt::format("{}:{}", node.ip, node.port);
}

Entry
entry_for(std::string account,
          std::string container,
          std::string object,
          Operation op = Operation::migrate,
          int policy = 0)
{
  return Entry{format_submitted(std::chrono::system_clock::now()),
               op,
               Target{std::move(account), std::move(container), std::move(object)},
               policy};
}

std::map<std::string, ListedEntry>
listed(RequestQueue& queue, Which which)
{
  std::map<std::string, ListedEntry> out;
  queue.for_each(which, [&](const ListedEntry& entry) {
    out.emplace(entry.row.name, entry);
    return true;
  });
  return out;
}

// The names one replica lists under `prefix` (no merging).
std::vector<std::string>
replica_names(swift::HttpClient& http,
              DirectContainerClient& direct,
              const ring::Device& node,
              std::string_view container,
              std::string_view prefix)
{
  swift::HttpRequest request;
  request.url = fmt::format("http://{}/{}/{}/{}/{}?format=json&prefix={}",
                            host_of(node),
                            node.device,
                            direct.partition(container),
                            swift::encode_path(direct.account()),
                            swift::encode_path(container),
                            swift::encode_query_value(prefix));
  const auto response = http.send(request);
  std::vector<std::string> names;
  if (response.status == 200) {
    for (const auto& row : nlohmann::json::parse(response.body)) {
      names.push_back(row.at("name").get<std::string>());
    }
  }
  return names;
}

int
container_server_pid(const std::filesystem::path& dir, int port)
{
  std::ifstream in(dir / "run" / "pids.json");
  const auto pids = nlohmann::json::parse(in);
  for (const auto& process : pids.at("processes")) {
    if (process.at("kind") == "container" && process.at("port") == port) {
      return process.at("pid").get<int>();
    }
  }
  throw Error(fmt::format("no container server on port {} in pids.json", port));
}

} // namespace

int
main(int argc, char** argv)
{
  bool stop_server = false;
  std::string dir_arg;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--stop-server") {
      stop_server = true;
    } else if (!arg.empty() && arg[0] != '-' && dir_arg.empty()) {
      dir_arg = arg;
    } else {
      std::cerr << "usage: queue_integration [--stop-server] [SAIO_DIR]\n";
      return 2;
    }
  }
  if (dir_arg.empty() && std::getenv("HLM_SAIO_DIR")) {
    dir_arg = std::getenv("HLM_SAIO_DIR");
  }
  const bool ci = std::getenv("CI") && std::string(std::getenv("CI")) == "true";
  const std::filesystem::path dir = dir_arg;
  if (dir_arg.empty() || !std::filesystem::exists(dir / "cluster.json")) {
    std::cerr << "queue_integration: no cluster (give SAIO_DIR or set HLM_SAIO_DIR)\n";
    return ci ? 1 : 125;
  }
  std::ifstream cluster_file(dir / "cluster.json");
  const auto cluster = nlohmann::json::parse(cluster_file);
  const std::filesystem::path swift_dir = cluster.at("swift_dir").get<std::string>();

  const auto curl = swift::make_curl_client();
  FaultyClient http(*curl);
  const std::string account = fmt::format(".hlm-queue-test-{}-{}",
                                          ::getpid(),
                                          std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  std::cout << "# account " << account << ", swift_dir " << swift_dir << '\n';
  RequestQueue queue(http, swift_dir, account);
  auto& direct = queue.direct();
  const std::string pending(k_pending_container);
  const std::string failed(k_failed_container);
  const auto nodes = direct.nodes(pending);
  check(nodes.size() == 3, "the pending container has 3 primaries");

  // ------------------------------------------------------------------
  std::map<std::string, Entry> submitted;
  scenario("hostile names survive submit and listing", [&] {
    const std::vector<Entry> entries = {
      entry_for("AUTH_test", "cont", "\xf0\x9f\x93\xbc tape/\xe6\x97\xa5\xe6\x9c\xac/caf\xc3\xa9"),
      entry_for("AUTH_test", "cont", "100% ?x=1&y=2#frag;p"),
      entry_for("AUTH_test", "cont", " spaces  and\ttabs\tand\nnew\r\nlines "),
      entry_for("AUTH_test", "cont", "/leading/slash"),
      entry_for("AUTH_test", "cont", "//double//slashes//"),
      entry_for("AUTH_test", "cont", ".."),
      entry_for("AUTH_test", "cont", "."),
      entry_for("AUTH_test", "cont", "a/../b/./c"),
      entry_for("AUTH_test", "cont", "0/migrate/AUTH_x"),
      entry_for("AUTH_test", "cont", "a--b--c"),
      entry_for("AUTH_test", "cont", std::string(1024, 'o')),
      entry_for("AUTH_test",
                "cont",
                std::string(1021, 'u') + "\xe2\x82\xac"), // 1,024 bytes, ends in UTF-8
      entry_for("AUTH_test", "20260101000000.000", "20260101000000.000", Operation::recall),
      entry_for("migrate", "recall", "0", Operation::recall, 1),
      entry_for("AUTH_t\xc3\xa9st", "c %25 ?#", {}),
      entry_for("AUTH_test", "cont", {}, Operation::recall, 1),
    };
    for (const auto& entry : entries) {
      const auto id = queue.submit(entry);
      check(id == encode_entry(entry), "submit returns the encoded name", id);
      submitted.emplace(id, entry);
    }
    const auto rows = listed(queue, Which::pending);
    check(rows.size() == submitted.size(),
          "every submitted entry is listed once",
          fmt::format("{} listed, {} submitted", rows.size(), submitted.size()));
    for (const auto& [id, entry] : submitted) {
      const auto it = rows.find(id);
      if (it == rows.end()) {
        check(false, "listed: " + printable(id));
        continue;
      }
      check(it->second.entry == entry,
            "decodes equal: " + printable(id.substr(0, 80)),
            it->second.decode_error);
      check(it->second.row.content_type == k_entry_content_type,
            "content type kept",
            it->second.row.content_type);
      check(!it->second.reason, "pending rows carry no reason");
    }
  });

  // ------------------------------------------------------------------
  scenario("timestamps round-trip exactly through last_modified", [&] {
    const std::string name = "/20260101000000.000/migrate/AUTH_test/ts/0/exact";
    const auto ts = SwiftTimestamp::now();
    direct.put_row_quorum(pending, name, ts, k_entry_content_type);
    std::optional<Row> found;
    direct.list_rows(pending, ListOptions{name, 10}, [&](const Row& row) {
      found = row;
      return false;
    });
    check(found && found->name == name, "row listed by prefix");
    check(found && found->timestamp == ts,
          "listing time equals X-Timestamp",
          found ? found->timestamp.internal() + " vs " + ts.internal() : "");
    // A delete older than the row changes nothing; one newer removes it.
    SwiftTimestamp older(ts.ticks() - 1);
    check(direct.delete_row(pending, name, older) == 3, "older delete answered by all");
    found.reset();
    direct.list_rows(pending, ListOptions{name, 10}, [&](const Row& row) {
      found = row;
      return true;
    });
    check(found.has_value(), "a delete older than the row is a no-op");
    direct.delete_row(pending, name, ts.plus_offset(1));
    found.reset();
    direct.list_rows(pending, ListOptions{name, 10}, [&](const Row& row) {
      found = row;
      return true;
    });
    check(!found, "a delete at the row's time + offset 1 removes it");
  });

  // ------------------------------------------------------------------
  scenario("a failure reason round-trips through a container server", [&] {
    const auto rows = listed(queue, Which::pending);
    const std::string short_id = encode_entry(submitted.begin()->second);
    const std::string short_reason =
      "node 127.0.0.1:6010 sdb1: backend \"ltfsdm\" said: no tape; 100% sure\n\xe2\x9c\x97 = fail";
    queue.fail(rows.at(short_id).row, short_reason);

    std::string long_reason;
    while (long_reason.size() < 3000) {
      long_reason += "drive error \xe2\x80\x94 \xf0\x9f\x93\xbc ";
    }
    const std::string long_id = std::next(submitted.begin())->first;
    queue.fail(rows.at(long_id).row, long_reason);

    const auto failures = listed(queue, Which::failed);
    check(failures.size() == 2, "two failed rows");
    const auto& s = failures.at(short_id);
    check(s.reason == short_reason, "short reason round-trips", s.reason.value_or("(none)"));
    check(s.entry == submitted.at(short_id), "failed entry decodes");
    check(s.row.content_type.rfind("application/swifthlm-task;reason=", 0) == 0,
          "Swift rewrites '; reason=' as ';reason='",
          s.row.content_type);
    check(rows.at(short_id).row.timestamp < s.row.timestamp, "failed row is newer");
    const auto& l = failures.at(long_id);
    const auto expected = reason_of(failed_content_type(long_reason));
    check(l.reason == expected, "long reason comes back cut as encoded");
    check(l.reason && is_valid_utf8(*l.reason) && l.reason->size() > 500
            && l.reason->ends_with("..."),
          "long reason is cut on a character boundary",
          l.reason.value_or(""));
    const auto still = listed(queue, Which::pending);
    check(!still.count(short_id) && !still.count(long_id), "failed rows left pending");
    submitted.erase(short_id);
    submitted.erase(long_id);
  });

  // ------------------------------------------------------------------
  scenario("complete removes exactly one entry", [&] {
    const auto before = listed(queue, Which::pending);
    const auto id = submitted.begin()->first;
    queue.complete(before.at(id).row);
    const auto after = listed(queue, Which::pending);
    check(!after.count(id), "completed entry gone");
    check(after.size() == before.size() - 1, "the others remain");
    submitted.erase(id);
  });

  // ------------------------------------------------------------------
  scenario("a re-submission survives the delete of the older copy", [&] {
    const auto entry = entry_for("AUTH_test", "again", "obj");
    const auto id = queue.submit(entry);
    const auto first = listed(queue, Which::pending).at(id).row;
    queue.submit(entry); // the same name, a later time
    const auto second = listed(queue, Which::pending).at(id).row;
    check(first.timestamp < second.timestamp,
          "re-submission is newer",
          first.timestamp.internal() + " vs " + second.timestamp.internal());
    queue.complete(first);
    const auto rows = listed(queue, Which::pending);
    check(rows.count(id) && rows.at(id).row.timestamp == second.timestamp,
          "re-submission still pending after the older dequeue");
    queue.complete(second);
    check(!listed(queue, Which::pending).count(id), "and its own dequeue removes it");
  });

  // ------------------------------------------------------------------
  // retry_later relies on Swift merging a row's data and content-type times
  // apart (X-Content-Type-Timestamp); see lib/hlm/queue/queue.cpp.
  scenario("a retry rewrite on the real cluster", [&] {
    const auto id = queue.submit(entry_for("AUTH_test", "retry", "obj"));
    const auto first = listed(queue, Which::pending).at(id);
    queue.retry_later(first, {2, 1795332046, "tape offline; 100%"});
    auto rows = listed(queue, Which::pending);
    check(rows.count(id) && rows.at(id).retry == RetryState{2, 1795332046, "tape offline; 100%"},
          "the row keeps its name and says attempts, retry_after and reason",
          rows.count(id) ? rows.at(id).row.content_type : "not listed");
    check(rows.count(id) && first.row.timestamp < rows.at(id).row.timestamp,
          "listings show the content-type time");
    queue.retry_later(rows.at(id), {3, 1795332106, "again"});
    rows = listed(queue, Which::pending);
    check(rows.count(id) && rows.at(id).retry.attempts == 3, "a second rewrite counts too");
    queue.complete(rows.at(id).row);
    check(!listed(queue, Which::pending).count(id), "the next dequeue removes it");

    // Another dispatcher dequeued the version this one listed: before or
    // after the rewrite, the request stays done.
    const auto id2 = queue.submit(entry_for("AUTH_test", "retry", "raced"));
    const auto listed2 = listed(queue, Which::pending).at(id2);
    queue.complete(listed2.row);
    queue.retry_later(listed2, {1, 1795332046, "x"});
    check(!listed(queue, Which::pending).count(id2),
          "a rewrite after a dequeue resurrects nothing");
    const auto id3 = queue.submit(entry_for("AUTH_test", "retry", "raced-late"));
    const auto listed3 = listed(queue, Which::pending).at(id3);
    queue.retry_later(listed3, {1, 1795332046, "x"});
    queue.complete(listed3.row);
    check(!listed(queue, Which::pending).count(id3), "a late dequeue still removes the rewrite");
  });

  // ------------------------------------------------------------------
  scenario("clear_failed_before on the real cluster", [&] {
    const Target target{"AUTH_test", "cleared", "o"};
    std::vector<std::string> ids;
    for (const char* when : {"20250101000000.000", "20250101000001.000", "20250101000009.000"}) {
      ids.push_back(queue.submit(Entry{when, Operation::migrate, target, 0}));
    }
    ids.push_back(queue.submit(Entry{"20250101000002.000", Operation::recall, target, 0}));
    const auto rows = listed(queue, Which::pending);
    for (const auto& id : ids) {
      queue.fail(rows.at(id).row, "x");
    }
    check(queue.clear_failed_before(target, Operation::migrate, "20250101000005.000") == 2,
          "two older migrate failures cleared");
    const auto left = listed(queue, Which::failed);
    check(!left.count(ids[0]) && !left.count(ids[1]) && left.count(ids[2]) && left.count(ids[3]),
          "newer and other-operation failures kept");
  });

  // ------------------------------------------------------------------
  scenario("the legacy '--' form decodes from a real listing", [&] {
    const std::string name = "20170303034043.566--migrate--AUTH_test--cont3--0--obj--with--dashes";
    direct.put_row_quorum(pending, name, SwiftTimestamp::now(), k_entry_content_type);
    const auto rows = listed(queue, Which::pending);
    const auto it = rows.find(name);
    check(it != rows.end() && it->second.entry
            && it->second.entry->target.object == "obj--with--dashes"
            && it->second.entry->target.container == "cont3",
          "legacy entry decoded",
          it == rows.end() ? "not listed" : it->second.decode_error);
    if (it != rows.end()) {
      queue.complete(it->second.row);
    }
  });

  // ------------------------------------------------------------------
  scenario("an entry on only one replica is still listed", [&] {
    const std::string name = "/20260101000000.000/recall/AUTH_test/one/0/replica";
    const auto ts = SwiftTimestamp::now();
    const auto reply = direct.put_row_on(*nodes[1], pending, name, ts, k_entry_content_type);
    check(reply.ok(), "direct write to " + reply.node, reply.error);
    check(replica_names(*curl, direct, *nodes[0], pending, name).empty()
            && replica_names(*curl, direct, *nodes[1], pending, name).size() == 1,
          "only that replica holds it");
    const auto rows = listed(queue, Which::pending);
    check(rows.count(name) && rows.at(name).row.timestamp == ts, "merged listing shows it");
    if (rows.count(name)) {
      queue.complete(rows.at(name).row);
    }
    check(!listed(queue, Which::pending).count(name), "a quorum delete removes it");
  });

  // ------------------------------------------------------------------
  scenario("quorum with one container server unreachable (simulated)", [&] {
    http.down = {host_of(*nodes[0])};
    const auto entry = entry_for("AUTH_test", "quorum", "one-down");
    const auto id = queue.submit(entry);
    check(listed(queue, Which::pending).count(id), "written with 2 of 3 and listed");
    http.down = {host_of(*nodes[0]), host_of(*nodes[2])};
    const auto two_down = entry_for("AUTH_test", "quorum", "two-down");
    try {
      queue.submit(two_down);
      check(false, "2 of 3 down must fail");
    } catch (const TransportError& e) {
      const std::string what = e.what();
      check(what.find("not queued") != std::string::npos
              && what.find("1 of 3 container servers accepted, 2 needed") != std::string::npos
              && what.find(node_label(*nodes[0])) != std::string::npos
              && what.find(node_label(*nodes[2])) != std::string::npos,
            "below quorum: not queued, naming the failing nodes",
            what);
    }
    check(listed(queue, Which::pending).count(id), "listing works with one replica left");
    // The one server that took the row had it withdrawn: nothing of it is
    // listed, so nothing of it runs.
    check(!listed(queue, Which::pending).count(encode_entry(two_down)),
          "the entry below quorum is withdrawn from the server that took it");
    http.down = {host_of(*nodes[0]), host_of(*nodes[1]), host_of(*nodes[2])};
    try {
      listed(queue, Which::pending);
      check(false, "listing with no replica must fail");
    } catch (const TransportError& e) {
      check(std::string(e.what()).find("no container server answered") != std::string::npos,
            "no replica: TransportError",
            e.what());
    }
    http.down.clear();
    queue.complete(listed(queue, Which::pending).at(id).row);
  });

  // ------------------------------------------------------------------
  scenario("a container nobody has written lists empty", [&] {
    int rows = 0;
    direct.list_rows("never-written", {}, [&](const Row&) {
      ++rows;
      return true;
    });
    check(rows == 0, "404 from every replica is an empty listing");
  });

  // ------------------------------------------------------------------
  if (stop_server) {
    scenario("quorum with one container server stopped (SIGSTOP)", [&] {
      const int pid = container_server_pid(dir, nodes[2]->port);
      std::cout << "# stopping container server " << node_label(*nodes[2]) << " pid " << pid
                << '\n';
      check(::kill(pid, SIGSTOP) == 0, "SIGSTOP");
      struct Resume
      {
        int pid;
        ~Resume()
        {
          ::kill(pid, SIGCONT);
        }
      } resume{pid};
      const auto entry = entry_for("AUTH_test", "stopped", "server");
      const auto start = std::chrono::steady_clock::now();
      std::string id;
      try {
        id = queue.submit(entry);
        check(true, "submit succeeds with 2 of 3");
      } catch (const std::exception& e) {
        check(false, "submit succeeds with 2 of 3", e.what());
      }
      const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
      std::cout << "# submit took " << seconds.count() << " s\n";
      check(!id.empty() && listed(queue, Which::pending).count(id), "listed while stopped");
      ::kill(pid, SIGCONT);
      // The stopped server still had our PUT in its socket buffer.
      std::this_thread::sleep_for(std::chrono::seconds(2));
      const auto late = replica_names(*curl, direct, *nodes[2], pending, id);
      std::cout << "# after SIGCONT the stopped replica lists the entry: "
                << (late.empty() ? "no" : "yes") << '\n';
      if (!id.empty()) {
        queue.complete(listed(queue, Which::pending).at(id).row);
        check(!listed(queue, Which::pending).count(id), "completed after resume");
      }
    });
  }

  // ------------------------------------------------------------------
  scenario("rows carry the policy of a queue container SwiftHLM created", [&] {
    // SwiftHLM creates failed-hlm-requests through the proxy: it gets the
    // cluster's default policy, which need not be 0. Made here directly,
    // with policy 1, in an account of its own.
    RequestQueue queue1(http, swift_dir, account + "-policy1");
    auto& direct1 = queue1.direct();
    const auto now = SwiftTimestamp::now();
    for (const auto* node : direct1.nodes(failed)) {
      swift::HttpRequest request;
      request.method = swift::Method::put;
      request.url = fmt::format("http://{}/{}/{}/{}/{}",
                                host_of(*node),
                                node->device,
                                direct1.partition(failed),
                                swift::encode_path(direct1.account()),
                                failed);
      request.headers = {{"X-Timestamp", now.internal()},
                         {"X-Backend-Storage-Policy-Index", "1"},
                         {"Content-Length", "0"}};
      const auto response = http.send(request);
      check(response.status == 201 || response.status == 202,
            "container made with policy 1",
            std::to_string(response.status));
    }
    check(direct1.policy_index(failed) == 1, "the client reads the container's policy");
    const auto entry = entry_for("AUTH_test", "policy1", "obj");
    const std::string name = encode_entry(entry);
    direct1.put_row_quorum(failed, name, now.plus_offset(1), k_entry_content_type);
    check(listed(queue1, Which::failed).count(name) == 1, "a row written by hlm is listed");
    // What hlm wrote before: a row with policy index 0 in that container is
    // hidden from listings as misplaced.
    const auto hidden = encode_entry(entry_for("AUTH_test", "policy1", "hidden"));
    for (const auto* node : direct1.nodes(failed)) {
      swift::HttpRequest request;
      request.method = swift::Method::put;
      request.url = fmt::format("http://{}/{}/{}/{}/{}/{}",
                                host_of(*node),
                                node->device,
                                direct1.partition(failed),
                                swift::encode_path(direct1.account()),
                                failed,
                                swift::encode_path(hidden));
      request.headers = {{"X-Timestamp", now.plus_offset(1).internal()},
                         {"X-Size", "0"},
                         {"X-Etag", "d41d8cd98f00b204e9800998ecf8427e"},
                         {"X-Content-Type", std::string(k_entry_content_type)},
                         {"X-Backend-Storage-Policy-Index", "0"},
                         {"Content-Length", "0"}};
      http.send(request);
    }
    check(listed(queue1, Which::failed).count(hidden) == 0,
          "a row with policy index 0 is hidden there (what this fixes)");
    direct1.delete_row(failed, name, now.plus_offset(2));
    check(listed(queue1, Which::failed).count(name) == 0, "the row is deleted again");
  });

  // ------------------------------------------------------------------
  scenario("cleanup", [&] {
    for (const auto which : {Which::pending, Which::failed}) {
      for (const auto& [name, entry] : listed(queue, which)) {
        direct.delete_row(container_of(which), name, entry.row.timestamp.plus_offset(1));
      }
      check(listed(queue, which).empty(), fmt::format("{} emptied", container_of(which)));
    }
  });

  std::cout << (g_failures ? fmt::format("{} check(s) failed\n", g_failures)
                           : "all checks passed\n");
  return g_failures ? 1 : 0;
}
