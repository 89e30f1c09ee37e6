#include <hlm/ctl/submit.hpp>
#include <hlm/ring/placement.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

namespace hlm::ctl {

queue::Target
parse_target(std::string_view text)
{
  const auto name = parse_swift_name(text);
  if (name.container.empty()) {
    return {{}, name.account, {}}; // a container of the caller's account
  }
  return {name.account, name.container, name.object};
}

std::string
to_string(const queue::Target& target)
{
  return target.object.empty()
           ? fmt::format("{}/{}", target.account, target.container)
           : fmt::format("{}/{}/{}", target.account, target.container, target.object);
}

namespace {

swift::ContainerInfo
head_container(swift::Client& client, const queue::Target& target)
{
  auto container = client.head_container(target.account, target.container);
  if (!container) {
    throw SwiftError(
      fmt::format("container {}/{} does not exist", target.account, printable(target.container)),
      404);
  }
  return std::move(*container);
}

} // namespace

void
require_container(swift::Client& client, const queue::Target& target)
{
  head_container(client, target);
}

const ring::StoragePolicy&
container_policy(swift::Client& client,
                 const ring::SwiftConf& swift_conf,
                 const queue::Target& target)
{
  const auto container = head_container(client, target);
  return container.storage_policy.empty() ? swift_conf.default_policy()
                                          : swift_conf.find_policy(container.storage_policy);
}

void
require_object(swift::Client& client, const queue::Target& target)
{
  if (!target.object.empty()
      && !client.head_object(target.account, target.container, target.object)) {
    throw SwiftError(fmt::format("object {} does not exist", printable(to_string(target))), 404);
  }
}

Submitter::Submitter(swift::Client& client,
                     queue::RequestQueue& requests,
                     const ring::SwiftConf& swift_conf)
  : m_client(client),
    m_requests(requests),
    m_swift_conf(swift_conf)
{
}

Submitted
Submitter::submit(Operation operation, const queue::Target& target)
{
  if (operation == Operation::status) {
    throw InputError("only migrate and recall requests are queued");
  }
  const auto key = std::make_pair(target.account, target.container);
  auto policy = m_policies.find(key);
  if (policy == m_policies.end()) {
    if (m_refusal_status != 0 && key == m_refused) {
      throw SwiftError(m_refusal, m_refusal_status);
    }
    try {
      policy =
        m_policies.emplace(key, container_policy(m_client, m_swift_conf, target).index).first;
    } catch (const SwiftError& e) {
      m_refused = key;
      m_refusal = e.what();
      m_refusal_status = e.http_status();
      throw;
    }
  }
  require_object(m_client, target);
  Submitted submitted;
  submitted.entry.submitted = queue::format_submitted(std::chrono::system_clock::now());
  submitted.entry.operation = operation;
  submitted.entry.target = target;
  submitted.entry.policy_index = policy->second;
  submitted.id = m_requests.submit(submitted.entry);
  return submitted;
}

} // namespace hlm::ctl
