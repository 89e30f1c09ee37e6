#pragma once

// Fake storage nodes for dispatch_once's unit tests: every hlm-handler
// document is answered at once, each object in the state its operation
// leads to.

#include "../support/batch_transport.hpp"

#include <hlm/config/hlm_conf.hpp>
#include <hlm/dispatch/fanout.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm::test {

// Migrate answers migrated, recall premigrated, status `status_state`;
// the objects in `failing` fail instead: with the error kind given
// ("backend" is transient, "deleted" permanent), or with none ("") as a
// handler that only says "backend failed: tape offline".
struct FakeNodes
{
  std::mutex mutex;
  std::map<std::string, std::string> failing;               // path → error kind
  std::vector<std::pair<std::string, std::string>> applied; // operation, object
  bool record = true;                                       // whether to fill `applied`
  std::string status_state = "premigrated";                 // what a status answers
  // Each document's fields but its objects, when `record` is set.
  std::vector<nlohmann::json> documents;
  // Called (outside the lock) before each document is answered: what a
  // user does while the dispatcher works.
  std::function<void()> on_batch;

  dispatch::TransportFactory
  factory()
  {
    return [this](const config::NodeAccess&) -> std::unique_ptr<transport::Transport> {
      return std::make_unique<Node>(*this);
    };
  }

  class Node final : public BatchTransport
  {
  public:
    explicit Node(FakeNodes& nodes)
      : m_nodes(nodes)
    {
    }
    std::string
    describe() const override
    {
      return "fake node";
    }
    transport::RunResult
    run_batch(const std::vector<std::string>& /*argv*/,
              std::string_view input,
              const transport::OutputCallback& on_output) override
    {
      if (m_nodes.on_batch) {
        m_nodes.on_batch();
      }
      const auto document = nlohmann::json::parse(input);
      const std::string operation = document["request"];
      nlohmann::json answer = {{"objects", nlohmann::json::array()}};
      std::lock_guard lock(m_nodes.mutex);
      if (m_nodes.record) {
        auto head = document;
        head.erase("objects");
        m_nodes.documents.push_back(std::move(head));
      }
      for (const auto& item : document["objects"]) {
        answer["objects"].push_back(line(operation, item["object"], item["device"]));
      }
      on_output(answer.dump());
      return {0, std::nullopt, ""};
    }

  private:
    nlohmann::json
    line(const std::string& operation, const std::string& object, const nlohmann::json& device)
    {
      nlohmann::json line = {{"object", object},
                             {"device", device},
                             {"status",
                              operation == "migrate"  ? "migrated"
                              : operation == "status" ? m_nodes.status_state
                                                      : "premigrated"},
                             {"error", nullptr}};
      const auto failing = m_nodes.failing.find(object);
      if (failing == m_nodes.failing.end()) {
        if (m_nodes.record) {
          m_nodes.applied.emplace_back(operation, object);
        }
        return line;
      }
      line["status"] = "unknown";
      if (failing->second.empty()) {
        line["error"] = "backend failed: tape offline";
      } else {
        line["error"] = "backend failed: " + failing->second;
        line["error_kind"] = failing->second;
        line["transient"] = failing->second == "backend";
      }
      return line;
    }

    FakeNodes& m_nodes;
  };
};

} // namespace hlm::test
