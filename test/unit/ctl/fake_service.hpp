#pragma once

// A ctl::Service that answers from what a test put in it: the objects of a
// status query, the requests of a listing, each target's answer to a
// submit and a script of looks at the queue. No Swift, no queue, no nodes.

#include <hlm/ctl/service.hpp>
#include <hlm/queue/queue.hpp>
#include <hlm/util/error.hpp>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace hlm::test {

class FakeService final : public ctl::Service
{
public:
  // status(): these objects in order, then a summary counted from them
  // (`refuse_status`: throws SwiftError 403 instead, before any object).
  std::vector<ctl::ObjectStatus> objects;
  bool refuse_status = false;
  // requests(): these lines, pending and failed as they are marked.
  std::vector<ctl::RequestLine> lines;
  // submit(): what a target (to_string) answers; by default it is queued
  // with policy index 0 and the id "/<n>/<target>".
  std::map<std::string, std::function<ctl::Submitted(Operation, const queue::Target&)>> submits;
  // look_up(): one answer per call; the last answer repeats.
  std::deque<std::vector<ctl::QueuedRequest>> looks;

  std::vector<queue::Target> submitted_targets;
  std::vector<std::set<std::string>> looked_up;

  ctl::Submitted
  submit(Operation operation, const queue::Target& target) override
  {
    submitted_targets.push_back(target);
    const auto it = submits.find(ctl::to_string(target));
    if (it != submits.end()) {
      return it->second(operation, target);
    }
    ctl::Submitted submitted;
    submitted.entry.operation = operation;
    submitted.entry.target = target;
    submitted.id = "/" + std::to_string(submitted_targets.size()) + "/" + ctl::to_string(target);
    return submitted;
  }

  // manage(): what each call answers; by default nothing.
  std::function<std::vector<ctl::ManageResult>(Manage, const std::vector<ctl::RequestName>&)>
    manages;

  std::vector<ctl::ManageResult>
  manage(Manage verb, const std::vector<ctl::RequestName>& names) override
  {
    return manages ? manages(verb, names) : std::vector<ctl::ManageResult>{};
  }

  ctl::StatusSummary
  status(const queue::Target& /*target*/,
         bool /*with_replicas*/,
         const std::function<void(const ctl::ObjectStatus&)>& on_object) override
  {
    if (refuse_status) {
      throw SwiftError("container AUTH_test/c: HTTP 403 Forbidden", 403);
    }
    ctl::StatusSummary summary;
    for (const auto& object : objects) {
      ++summary.objects;
      ++summary.per_state[static_cast<std::size_t>(object.state)];
      summary.with_errors += object.errors.empty() ? 0 : 1;
      summary.with_stub_missing += object.stub_missing_on.empty() ? 0 : 1;
      on_object(object);
    }
    return summary;
  }

  std::size_t
  requests(const queue::Target& /*target*/,
           const std::function<void(const ctl::RequestLine&)>& on_request) override
  {
    for (const auto& line : lines) {
      on_request(line);
    }
    return lines.size();
  }

  std::vector<ctl::QueuedRequest>
  look_up(const std::set<std::string>& ids) override
  {
    looked_up.push_back(ids);
    if (looks.empty()) {
      throw std::logic_error("FakeService: no look scripted");
    }
    auto answer = looks.front();
    if (looks.size() > 1) {
      looks.pop_front();
    }
    return answer;
  }

  std::vector<std::string>
  pending_for(const queue::Target& /*target*/) override
  {
    std::vector<std::string> ids;
    for (const auto& line : lines) {
      if (line.which == queue::Which::pending) {
        ids.push_back(line.id);
      }
    }
    return ids;
  }

  std::string
  describe() override
  {
    return "a fake";
  }
};

} // namespace hlm::test
