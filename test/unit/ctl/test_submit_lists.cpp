// hlmctl migrate|recall -f queueing the objects of a container as list
// requests (BulkSubmitter through submit_list), against a proxy fake and a
// queue on fake container and object servers.

#include "queue_fixture.hpp"
#include "routed_http.hpp"

#include <hlm/ctl/service.hpp>
#include <hlm/ctl/submit_report.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/exit_status.hpp>
#include <hlm/util/percent.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

using namespace hlm;
using namespace hlm::ctl;
using hlm::test::QueueFixture;
using hlm::test::RoutedHttp;

namespace {

// A proxy with containers of AUTH_test: HEADs of containers and objects,
// listings; a container not in `containers` is 404, one in `forbidden` 403.
class ProxyHttp : public RoutedHttp
{
public:
  std::map<std::string, std::set<std::string>> containers;
  std::set<std::string> forbidden;

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    const auto host = request.url.find('/', request.url.find("//") + 2);
    const auto query = request.url.find('?');
    const std::string prefix = "/v1/AUTH_test/";
    const auto path = request.url.substr(host, query - host);
    if (path.rfind(prefix, 0) != 0) {
      return RoutedHttp::send(request);
    }
    sent.push_back(request);
    const auto rest = path.substr(prefix.size());
    const auto slash = rest.find('/');
    const auto container = percent_decode(rest.substr(0, slash));
    swift::HttpResponse response;
    const auto it = containers.find(container);
    response.status = forbidden.count(container) != 0 ? 403 : it == containers.end() ? 404 : 200;
    if (response.status != 200) {
      return response;
    }
    if (slash != std::string::npos) {
      response.status = it->second.count(percent_decode(rest.substr(slash + 1))) ? 200 : 404;
    } else if (request.method == swift::Method::head) {
      response.status = 204;
      response.headers = {{"X-Container-Object-Count", std::to_string(it->second.size())}};
    } else {
      response.body = listing(it->second,
                              query == std::string::npos ? "" : request.url.substr(query + 1));
    }
    return response;
  }

private:
  static std::string
  listing(const std::set<std::string>& names, const std::string& query)
  {
    std::string marker;
    const auto at = query.find("marker=");
    if (at != std::string::npos) {
      marker = percent_decode(query.substr(at + 7, query.find('&', at) - at - 7));
    }
    auto rows = nlohmann::json::array();
    for (auto it = names.upper_bound(marker); it != names.end() && rows.size() < 10000; ++it) {
      rows.push_back({{"name", *it}, {"bytes", 1}});
    }
    return rows.dump();
  }
};

// The cluster's submission path (Submitter, BulkSubmitter) over the fakes.
class SubmitService final : public Service
{
public:
  SubmitService(swift::Client& client,
                QueueFixture& q,
                std::size_t min_objects,
                std::size_t max_manifest_bytes = queue::k_max_manifest_bytes)
    : m_submitter(client, *q.queue, q.swift_conf),
      m_bulk(m_submitter, min_objects, max_manifest_bytes)
  {
  }

  Submitted
  submit(Operation operation, const queue::Target& target) override
  {
    return m_submitter.submit(operation, target);
  }
  void
  set_recall_copies(std::optional<std::size_t> copies) override
  {
    m_submitter.set_copies(copies);
  }
  BulkSubmitter*
  bulk_submitter() override
  {
    return &m_bulk;
  }
  StatusSummary
  status(const queue::Target& /*target*/,
         bool /*with_replicas*/,
         const std::function<void(const ObjectStatus&)>& /*on_object*/) override
  {
    throw std::logic_error("not here");
  }
  std::size_t
  requests(const queue::Target& /*target*/,
           const std::function<void(const RequestLine&)>& /*on_request*/) override
  {
    throw std::logic_error("not here");
  }
  std::vector<QueuedRequest>
  look_up(const std::set<std::string>& /*ids*/) override
  {
    throw std::logic_error("not here");
  }
  std::vector<std::string>
  pending_for(const queue::Target& /*target*/) override
  {
    throw std::logic_error("not here");
  }
  std::string
  describe() override
  {
    return "the fakes";
  }

private:
  Submitter m_submitter;
  BulkSubmitter m_bulk;
};

struct Run
{
  SubmitReport report;
  std::string out;
  std::string err;
};

// Submits the lines of a list given on standard input.
Run
submit_lines(Service& service, Operation operation, const std::string& lines, bool json = false)
{
  TargetList list;
  std::istringstream in(lines);
  list.read({}, {"-"}, in, [](queue::Target target) { return target; });
  std::ostringstream out;
  std::ostringstream err;
  Run run;
  run.report = submit_list(service, operation, list, json, true, out, err);
  run.out = out.str();
  run.err = err.str();
  return run;
}

std::string
names_of(const std::string& container, int from, int to, const std::string& suffix = {})
{
  std::string lines;
  for (int i = from; i < to; ++i) {
    lines += fmt::format("AUTH_test/{}/o{:03d}{}\n", container, i, suffix);
  }
  return lines;
}

std::vector<queue::ListedList>
lists_of(QueueFixture& q)
{
  std::vector<queue::ListedList> lists;
  q.queue->for_each_list([&](const queue::ListedList& list) {
    lists.push_back(list);
    return true;
  });
  return lists;
}

std::vector<std::string>
manifest_names(QueueFixture& q, const queue::ListedList& list)
{
  std::vector<std::string> names;
  q.queue->read_list(list, [&](std::string_view name) { names.emplace_back(name); });
  return names;
}

struct Proxy
{
  ProxyHttp http;
  swift::Client client = test::preauthenticated_client(http);

  explicit Proxy(const std::map<std::string, int>& sizes)
  {
    for (const auto& [container, size] : sizes) {
      auto& names = http.containers[container];
      for (int i = 0; i < size; ++i) {
        names.insert(fmt::format("o{:03d}", i));
      }
    }
  }
};

} // namespace

TEST_CASE("submit lists: a container at the threshold is one list, one below is rows", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"few", 10}, {"many", 10}});
  SubmitService service(proxy.client, q, 3);
  const auto run = submit_lines(service,
                                Operation::migrate,
                                names_of("few", 0, 2) + names_of("many", 0, 3));
  CHECK(run.err.empty());
  CHECK(run.report.status == k_exit_success);
  CHECK(run.report.queued == 5);
  const auto rows = q.names(queue::Which::pending);
  REQUIRE(rows.size() == 2);
  CHECK(queue::decode_entry(rows[0]).target == queue::Target{"AUTH_test", "few", "o000"});
  CHECK(queue::decode_entry(rows[1]).target == queue::Target{"AUTH_test", "few", "o001"});
  const auto lists = lists_of(q);
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].entry->target.container == "many");
  CHECK(lists[0].entry->operation == Operation::migrate);
  CHECK(lists[0].progress == queue::ListProgress{3, 0, 0});
  CHECK(manifest_names(q, lists[0]) == std::vector<std::string>{"o000", "o001", "o002"});
  CHECK(run.report.ids == std::vector<std::string>{rows[0], rows[1], lists[0].row.name});
  CHECK(run.out
        == fmt::format("queued migrate AUTH_test/few/o000: {}\n"
                       "queued migrate AUTH_test/few/o001: {}\n"
                       "queued migrate AUTH_test/many: list of 3 objects: {}\n",
                       rows[0],
                       rows[1],
                       lists[0].row.name));
}

TEST_CASE("submit lists: list_min_objects 0 queues every object as a row", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"c", 200}});
  SubmitService service(proxy.client, q, 0);
  const auto run = submit_lines(service, Operation::migrate, names_of("c", 0, 150));
  CHECK(run.report.status == k_exit_success);
  CHECK(q.names(queue::Which::pending).size() == 150);
  CHECK(lists_of(q).empty());
}

TEST_CASE("submit lists: a container target stays a row, its objects make a list", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"c", 10}});
  SubmitService service(proxy.client, q, 2);
  const auto run = submit_lines(service, Operation::migrate, "AUTH_test/c\n" + names_of("c", 0, 4));
  CHECK(run.report.status == k_exit_success);
  const auto rows = q.names(queue::Which::pending);
  REQUIRE(rows.size() == 1);
  CHECK(queue::decode_entry(rows[0]).target == queue::Target{"AUTH_test", "c", ""});
  REQUIRE(lists_of(q).size() == 1);
  CHECK(lists_of(q)[0].progress->count == 4);
  // The container asked once, for the row and the list.
  const auto routes = proxy.http.sent_routes();
  CHECK(std::count(routes.begin(), routes.end(), "HEAD /v1/AUTH_test/c") == 1);
}

TEST_CASE("submit lists: a long run of names is split at the manifest limit", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"c", 300}});
  const std::size_t limit = 400;
  SubmitService service(proxy.client, q, 10, limit);
  const auto run = submit_lines(service, Operation::migrate, names_of("c", 0, 300));
  CHECK(run.report.status == k_exit_success);
  CHECK(run.report.queued == 300);
  const auto lists = lists_of(q);
  REQUIRE(lists.size() > 5);
  CHECK(run.report.ids.size() == lists.size());
  std::vector<std::string> all;
  std::set<std::string> submitted;
  for (const auto& list : lists) {
    const auto names = manifest_names(q, list);
    CHECK(names.size() == list.progress->count);
    all.insert(all.end(), names.begin(), names.end());
    submitted.insert(list.entry->submitted);
  }
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    expected.push_back(fmt::format("o{:03d}", i));
  }
  CHECK(all == expected);
  CHECK(submitted.size() == lists.size()); // each list its own submission time
  for (const auto& stored : q.objects.requests) {
    if (stored.method == swift::Method::put) {
      CHECK(stored.body.size() <= limit);
    }
  }
}

TEST_CASE("submit lists: missing objects are reported with their line and left out", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"c", 5}});
  SubmitService service(proxy.client, q, 3);
  const auto run = submit_lines(service,
                                Operation::migrate,
                                "AUTH_test/c/o001\nAUTH_test/c/o000\n# comment\n"
                                "AUTH_test/c/gone\nAUTH_test/c/o004\nAUTH_test/c/o009\n");
  CHECK(run.report.status == k_exit_partial);
  CHECK(run.report.queued == 3);
  CHECK(run.report.refused == 2);
  CHECK(run.err
        == "hlmctl: error: standard input line 4: AUTH_test/c/gone: object AUTH_test/c/gone "
           "does not exist\n"
           "hlmctl: error: standard input line 6: AUTH_test/c/o009: object AUTH_test/c/o009 "
           "does not exist\n");
  const auto lists = lists_of(q);
  REQUIRE(lists.size() == 1);
  CHECK(manifest_names(q, lists[0]) == std::vector<std::string>{"o000", "o001", "o004"});
  CHECK(q.names(queue::Which::pending).empty());
}

TEST_CASE("submit lists: a refused container refuses each object, asked once", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"c", 5}, {"d", 5}});
  proxy.http.forbidden.insert("c");
  SubmitService service(proxy.client, q, 2);
  const auto run = submit_lines(service,
                                Operation::recall,
                                names_of("c", 0, 4) + names_of("d", 0, 2));
  CHECK(run.report.status == k_exit_partial);
  CHECK(run.report.refused == 4);
  CHECK(run.report.queued == 2);
  CHECK(lists_of(q).size() == 1);
  const auto routes = proxy.http.sent_routes();
  CHECK(std::count(routes.begin(), routes.end(), "HEAD /v1/AUTH_test/c") == 1);
}

TEST_CASE("submit lists: a recall's copies go with the list", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"c", 5}});
  SubmitService service(proxy.client, q, 3);
  service.set_recall_copies(2);
  const auto run = submit_lines(service, Operation::recall, names_of("c", 0, 5));
  CHECK(run.report.status == k_exit_success);
  const auto lists = lists_of(q);
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].entry->operation == Operation::recall);
  CHECK(queue::copies_of(lists[0].row.content_type) == std::optional<std::size_t>(2));
}

TEST_CASE("submit lists: a manifest not stored queues nothing of it; the others go on", "[ctl]")
{
  QueueFixture q;
  for (int port = 6110; port <= 6140; port += 10) {
    q.objects.servers[fmt::format("127.0.0.1:{}", port)].mode = test::FakeObjectServers::Mode::fail;
  }
  Proxy proxy({{"c", 5}, {"d", 5}});
  SubmitService service(proxy.client, q, 3);
  const auto run =
    submit_lines(service, Operation::migrate, names_of("c", 0, 4) + names_of("d", 0, 2), true);
  CHECK(run.report.status == k_exit_partial);
  CHECK(run.report.refused == 4);
  CHECK(run.report.queued == 2);
  CHECK(lists_of(q).empty());
  CHECK(q.names(queue::Which::pending).size() == 2);
  CHECK_THAT(run.err,
             Catch::StartsWith("hlmctl: error: AUTH_test/c: not queued: list of 4 objects in "
                               "\"AUTH_test/c\""));
  const auto& first = run.report.document.at("requests").at(0);
  CHECK(first.at("target") == "AUTH_test/c");
  CHECK(first.at("objects") == 4);
  CHECK(first.contains("error"));
  CHECK(run.report.ids.size() == 2);
}

TEST_CASE("submit lists: the JSON document has one element per list", "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"c", 5}, {"d", 5}});
  SubmitService service(proxy.client, q, 3);
  const auto run = submit_lines(service,
                                Operation::migrate,
                                names_of("c", 0, 4) + "AUTH_test/c/gone\n" + names_of("d", 1, 2),
                                true);
  CHECK(run.out.empty());
  const auto lists = lists_of(q);
  REQUIRE(lists.size() == 1);
  const auto rows = q.names(queue::Which::pending);
  REQUIRE(rows.size() == 1);
  const auto& id = lists[0].row.name;
  const nlohmann::json expected = {{"requests",
                                    {{{"target", "AUTH_test/c/gone"},
                                      {"operation", "migrate"},
                                      {"error", "object AUTH_test/c/gone does not exist"},
                                      {"http_status", 404}},
                                     {{"target", "AUTH_test/c"},
                                      {"operation", "migrate"},
                                      {"policy_index", 0},
                                      {"id", id},
                                      {"list", lists[0].entry->target.object},
                                      {"objects", 4}},
                                     {{"target", "AUTH_test/d/o001"},
                                      {"operation", "migrate"},
                                      {"policy_index", 0},
                                      {"id", rows[0]},
                                      {"outcome", "queued"}}}},
                                   {"bad_lines", 0},
                                   {"bad_lines_shown", nlohmann::json::array()},
                                   {"duplicates", 0}};
  CHECK(run.report.document.dump() == expected.dump());
}

TEST_CASE("submit lists: a list's objects are checked by the listing from the start when "
          "that is cheaper than their HEADs",
          "[ctl]")
{
  QueueFixture q;
  Proxy proxy({{"big", 25000}});
  // 3 listing pages cost 63 HEADs: 100 objects to come are checked by the
  // listing at once.
  SubmitService service(proxy.client, q, 100);
  std::string lines;
  for (int i = 0; i < 24000; i += 160) {
    lines += fmt::format("AUTH_test/big/o{:03d}\n", i);
  }
  const auto run = submit_lines(service, Operation::migrate, lines);
  CHECK(run.report.status == k_exit_success);
  REQUIRE(lists_of(q).size() == 1);
  CHECK(lists_of(q)[0].progress->count == 150);
  std::size_t heads = 0;
  std::size_t listings = 0;
  for (const auto& route : proxy.http.sent_routes()) {
    heads += route.rfind("HEAD /v1/AUTH_test/big/", 0) == 0 ? 1 : 0;
    listings += route == "GET /v1/AUTH_test/big" ? 1 : 0;
  }
  CHECK(heads == 0);
  CHECK(listings >= 1);
  CHECK(listings <= 3);
}
