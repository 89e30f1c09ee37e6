// The HTTP interface's path of hlmctl: each question is one request to
// /hlm/v1/... on the proxy (python/hlm_swift/interface.py answers it by
// running hlmctl on the cluster's path there), with Accept:
// application/json, so the answers are hlmctl --json's documents.

#include <hlm/ctl/service.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>

namespace hlm::ctl {

namespace {

using Json = nlohmann::ordered_json;

ObjectState
state_of(const Json& text)
{
  return parse_object_state(text.get<std::string>()).value_or(ObjectState::unknown);
}

// An object's value in the status document: {"state", "readable",
// "replicas": [{"device", "node", "state"}]}, or the bare state of an hlm
// that did not report replicas.
void
read_object_value(const Json& value, ObjectStatus& object)
{
  if (value.is_string()) {
    object.state = state_of(value);
    object.readable = object.state == ObjectState::resident
                      || object.state == ObjectState::premigrated;
    return;
  }
  object.state = state_of(value.at("state"));
  object.readable = value.at("readable").get<bool>();
  if (const auto expiry = value.find("restore_expiry");
      expiry != value.end() && expiry->is_number_integer()) {
    object.restore_expiry = expiry->get<std::int64_t>();
  }
  for (const auto& replica : value.at("replicas")) {
    const auto node = replica.find("node");
    object.replicas.push_back(
      ReplicaStatus{replica.at("device").get<std::string>(),
                    node == replica.end() ? std::string() : node->get<std::string>(),
                    state_of(replica.at("state")),
                    replica.value("error", false)});
  }
}

class InterfaceService final : public Service
{
public:
  explicit InterfaceService(swift::Client& client)
    : m_client(client)
  {
  }

  // One request per target: the interface reaches no queue, so a -f
  // list's objects are each their own request here, never a list request
  // (no bulk_submitter()).
  // --copies, --priority and --days ride in X-HLM-Copies, X-HLM-Priority
  // and X-HLM-Days.
  void
  set_restore_days(std::optional<int> days) override
  {
    m_days = days;
  }

  void
  set_recall_copies(std::optional<std::size_t> copies) override
  {
    m_copies = copies;
  }

  void
  set_priority(std::optional<int> priority) override
  {
    m_priority = priority;
  }

  Submitted
  submit(Operation operation, const queue::Target& target) override
  {
    swift::Headers headers;
    if (m_days && operation == Operation::recall) {
      headers.emplace_back("X-HLM-Days", std::to_string(*m_days));
    }
    if (m_priority) {
      headers.emplace_back("X-HLM-Priority", std::to_string(*m_priority));
    }
    if (m_copies && operation == Operation::recall) {
      headers.emplace_back("X-HLM-Copies", queue::format_copies(*m_copies));
    }
    const auto doc = ask(swift::Method::post, to_string(operation), target, headers);
    try {
      const auto& request = doc.at("requests").at(0);
      Submitted submitted;
      // An older interface says no outcome: it queued.
      const auto outcome = request.value("outcome", std::string("queued"));
      if (outcome == "on_disk") {
        submitted.entry = queue::Entry{{}, operation, target, 0};
        submitted.outcome = SubmitOutcome::on_disk;
        return submitted;
      }
      submitted.id = request.at("id").get<std::string>();
      submitted.entry = queue::decode_entry(submitted.id);
      if (outcome == "already_queued") {
        submitted.outcome = SubmitOutcome::already_queued;
      }
      return submitted;
    } catch (const Json::exception& e) {
      throw unexpected(to_string(operation), target, e.what());
    } catch (const InputError& e) {
      throw unexpected(to_string(operation), target, e.what());
    }
  }

  // DELETE /hlm/v1/requests/..., POST /hlm/v1/retry/... or .../forget/...
  // of each name: a request id as X-HLM-Request-Id on its container's
  // path, a target as the path. The answer is hlmctl --json's document.
  std::vector<ManageResult>
  manage(Manage verb, const std::vector<RequestName>& names) override
  {
    const auto method = verb == Manage::cancel ? swift::Method::del : swift::Method::post;
    const std::string_view path_verb = verb == Manage::cancel  ? "requests"
                                       : verb == Manage::retry ? "retry"
                                                               : "forget";
    std::vector<ManageResult> results;
    for (const auto& name : names) {
      queue::Target target;
      swift::Headers headers;
      if (name.id) {
        target = queue::decode_entry(*name.id).target;
        target.object.clear();
        headers.emplace_back("X-HLM-Request-Id", *name.id);
      } else {
        target = *name.target;
      }
      try {
        const auto doc = ask(method, path_verb, target, headers);
        for (const auto& item : doc.at("requests")) {
          ManageResult result;
          result.given = name.given;
          result.id = item.value("id", std::string());
          result.target = item.value("target", std::string());
          result.done = item.value("done", std::string());
          if (const auto worked = item.find("maybe_worked");
              worked != item.end() && worked->is_boolean()) {
            result.maybe_worked = worked->get<bool>();
            result.run_started = item.value("run_started", std::int64_t{0});
          }
          if (item.contains("error")) {
            result.error = item.at("error").get<std::string>();
            result.http_status = item.value("http_status", 0);
          }
          if (item.contains("requeued")) {
            const auto& requeued = item.at("requeued");
            Submitted submitted;
            const auto outcome = requeued.at("outcome").get<std::string>();
            submitted.outcome = outcome == "on_disk"          ? SubmitOutcome::on_disk
                                : outcome == "already_queued" ? SubmitOutcome::already_queued
                                                              : SubmitOutcome::queued;
            submitted.id = requeued.value("id", std::string());
            result.requeued = submitted;
          }
          results.push_back(std::move(result));
        }
      } catch (const SwiftError& e) {
        ManageResult result;
        result.given = name.given;
        result.error = e.what();
        result.http_status = e.http_status();
        results.push_back(std::move(result));
      } catch (const Json::exception& e) {
        throw unexpected(path_verb, target, e.what());
      }
    }
    return results;
  }

  StatusSummary
  status(const queue::Target& target,
         bool with_replicas,
         const std::function<void(const ObjectStatus&)>& on_object) override
  {
    // X-HLM-Replicas: the interface runs hlmctl status --replicas.
    const auto doc = ask(swift::Method::get,
                         "status",
                         target,
                         with_replicas ? swift::Headers{{"X-HLM-Replicas", "yes"}}
                                       : swift::Headers{});
    StatusSummary summary;
    try {
      // The errors and missing stubs the document names (its first 20).
      std::map<std::string, std::vector<std::string>> errors;
      for (const auto& error : doc.at("errors")) {
        errors[error.at("object").get<std::string>()].push_back(
          error.at("error").get<std::string>());
      }
      std::map<std::string, std::vector<std::string>> stubs;
      for (const auto& stub : doc.at("stubs_missing")) {
        stubs[stub.at("object").get<std::string>()] =
          stub.at("devices").get<std::vector<std::string>>();
      }
      for (const auto& [name, value] : doc.at("objects").items()) {
        ObjectStatus object;
        object.object = name;
        read_object_value(value, object);
        if (const auto it = errors.find(name); it != errors.end()) {
          object.errors = it->second;
        }
        if (const auto it = stubs.find(name); it != stubs.end()) {
          object.stub_missing_on = it->second;
        }
        on_object(object);
      }
      const auto& counts = doc.at("summary");
      summary.objects = counts.at("objects").get<std::size_t>();
      for (const auto& [state_text, count] : counts.at("states").items()) {
        if (const auto state = parse_object_state(state_text)) {
          summary.per_state[static_cast<std::size_t>(*state)] = count.get<std::size_t>();
        }
      }
      summary.with_errors = counts.at("replica_errors").get<std::size_t>();
      summary.with_stub_missing = counts.at("stubs_missing").get<std::size_t>();
    } catch (const Json::exception& e) {
      throw unexpected("status", target, e.what());
    }
    return summary;
  }

  std::size_t
  requests(const queue::Target& target,
           const std::function<void(const RequestLine&)>& on_request) override
  {
    const auto doc = ask(swift::Method::get, "requests", target);
    std::size_t count = 0;
    try {
      for (const auto which : {queue::Which::pending, queue::Which::failed}) {
        for (const auto& item : doc.at(which == queue::Which::pending ? "pending" : "failed")) {
          RequestLine line;
          line.which = which;
          line.id = item.at("id").get<std::string>();
          line.entry = queue::decode_entry(line.id);
          const auto& reason = item.at("reason");
          const auto reason_text = reason.is_string() ? std::optional(reason.get<std::string>())
                                                      : std::nullopt;
          if (which == queue::Which::failed) {
            line.reason = reason_text;
          } else {
            line.retry.attempts = item.at("attempts").get<int>();
            line.priority = item.value("priority", queue::default_priority(line.entry.operation));
            if (item.at("retry_after").is_number()) {
              line.retry.retry_after = item.at("retry_after").get<std::int64_t>();
            }
            line.retry.reason = reason_text;
          }
          on_request(line);
          ++count;
        }
      }
    } catch (const Json::exception& e) {
      throw unexpected("requests", target, e.what());
    } catch (const InputError& e) {
      throw unexpected("requests", target, e.what());
    }
    return count;
  }

  std::vector<QueuedRequest>
  look_up(const std::set<std::string>& ids) override
  {
    // One question per target the ids name (an id is the queue entry's
    // name, so it says its target).
    std::map<std::string, queue::Target> targets;
    for (const auto& id : ids) {
      const auto target = queue::decode_entry(id).target;
      targets.emplace(to_string(target), target);
    }
    std::vector<QueuedRequest> found;
    std::set<std::string> pending;
    for (const auto& [_, target] : targets) {
      requests(target, [&](const RequestLine& line) {
        if (ids.count(line.id) == 0) {
          return;
        }
        if (line.which == queue::Which::pending) {
          pending.insert(line.id);
          found.push_back({line.id, line.which, {}, line.retry});
        } else {
          found.push_back({line.id, line.which, line.reason.value_or(""), {}});
        }
      });
    }
    // Pending wins over failed, as in the queue's own look.
    std::erase_if(found, [&](const QueuedRequest& request) {
      return request.which == queue::Which::failed && pending.count(request.id) != 0;
    });
    return found;
  }

  std::vector<std::string>
  pending_for(const queue::Target& target) override
  {
    std::vector<std::string> ids;
    requests(target, [&](const RequestLine& line) {
      if (line.which == queue::Which::pending) {
        ids.push_back(line.id);
      }
    });
    return ids;
  }

  std::string
  describe() override
  {
    return fmt::format("the proxy's HTTP interface at {}", m_client.hlm_interface_url());
  }

private:
  // The answer's document; a refusal or failure as hlm::SwiftError with
  // the status and the interface's message.
  Json
  ask(swift::Method method,
      std::string_view verb,
      const queue::Target& target,
      swift::Headers headers = {})
  {
    headers.emplace_back("Accept", "application/json");
    const auto response =
      m_client.hlm_request(method, verb, target.account, target.container, target.object, headers);
    if (response.status >= 200 && response.status < 300) {
      try {
        return Json::parse(response.body);
      } catch (const Json::exception& e) {
        throw unexpected(verb, target, e.what());
      }
    }
    std::string message;
    try {
      message = Json::parse(response.body).at("error").get<std::string>();
    } catch (const Json::exception&) {
      // Swift's own answer (401, 403), or a proxy without hlm's interface.
    }
    if (message.empty()) {
      message = response.status == 401 || response.status == 403
                  ? fmt::format("{} {}: {} (the proxy refused the caller)",
                                verb,
                                to_string(target),
                                swift::status_text(response.status))
                  : fmt::format(
                    "{} {}: {} from the proxy, which does not seem to answer hlm's HTTP "
                    "interface (hlmctl(1), THE HTTP INTERFACE)",
                    verb,
                    to_string(target),
                    swift::status_text(response.status));
    }
    throw SwiftError(printable(message), response.status);
  }

  static Error
  unexpected(std::string_view verb, const queue::Target& target, std::string_view what)
  {
    return Error(fmt::format("{} {}: the HTTP interface's answer is not what hlmctl expects: {}",
                             verb,
                             printable(to_string(target)),
                             what));
  }

  swift::Client& m_client;
  std::optional<std::size_t> m_copies;
  std::optional<int> m_priority;
  std::optional<int> m_days;
};

} // namespace

std::unique_ptr<Service>
interface_service(swift::Client& client)
{
  return std::make_unique<InterfaceService>(client);
}

} // namespace hlm::ctl
