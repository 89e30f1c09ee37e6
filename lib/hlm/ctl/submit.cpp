#include <hlm/ctl/submit.hpp>
#include <hlm/ring/placement.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>

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

namespace {

// `object` without its last UTF-8 character: a listing marker just before
// it (the names after it include `object` and few others), and valid
// UTF-8 as Swift wants a marker.
std::string
drop_last_character(const std::string& object)
{
  auto end = object.size();
  while (end > 0) {
    --end;
    if ((static_cast<unsigned char>(object[end]) & 0xc0) != 0x80) {
      break;
    }
  }
  return object.substr(0, end);
}

} // namespace

ObjectExistence::ObjectExistence(swift::Client& client,
                                 std::string account,
                                 std::string container,
                                 std::uint64_t object_count)
  : m_client(client),
    m_account(std::move(account)),
    m_container(std::move(container))
{
  const std::uint64_t page = k_page_names;
  const auto pages = std::max<std::uint64_t>(1, (object_count + page - 1) / page);
  m_budget = pages * (1 + std::min(object_count, page) / k_names_per_head);
}

bool
ObjectExistence::head(const std::string& object)
{
  ++m_heads;
  return m_client.head_object(m_account, m_container, object).has_value();
}

void
ObjectExistence::next_page()
{
  swift::ListOptions options;
  options.limit = k_page_names;
  options.marker = m_page.empty() ? std::string() : m_page.back();
  for (auto* after : {&m_previous, &m_jump}) {
    if (*after > options.marker) {
      options.marker = *after;
    }
  }
  std::vector<std::string> page;
  m_client.list_objects(m_account, m_container, options, [&](const swift::ObjectEntry& entry) {
    page.push_back(entry.name);
    return page.size() < static_cast<std::size_t>(k_page_names);
  });
  ++m_pages;
  m_last_page = page.size() < static_cast<std::size_t>(k_page_names);
  m_page = std::move(page);
  m_position = 0;
}

bool
ObjectExistence::listed(const std::string& object)
{
  for (;;) {
    while (m_position < m_page.size() && m_page[m_position] < object) {
      ++m_position;
    }
    if (m_position < m_page.size()) {
      return m_page[m_position] == object;
    }
    if (m_last_page) {
      return false;
    }
    m_jump = drop_last_character(object);
    next_page();
  }
}

void
ObjectExistence::expect(std::uint64_t targets)
{
  if (!m_listing_refused && targets >= m_budget) {
    m_listing = true;
  }
}

bool
ObjectExistence::exists(const std::string& object)
{
  if (!m_listing && !m_listing_refused && m_heads >= m_budget) {
    m_listing = true;
  }
  bool found = false;
  if (m_listing) {
    try {
      // Not listed: asked by HEAD, since a listing may lag behind a PUT.
      found = listed(object) || head(object);
    } catch (const SwiftError& e) {
      if (e.http_status() != 401 && e.http_status() != 403) {
        throw;
      }
      // May read the objects but not list them: HEADs from now on.
      m_listing = false;
      m_listing_refused = true;
      found = head(object);
    }
  } else {
    found = head(object);
  }
  m_previous = object;
  return found;
}

Submitter::Submitter(swift::Client& client,
                     queue::RequestQueue& requests,
                     const ring::SwiftConf& swift_conf)
  : m_client(client),
    m_requests(requests),
    m_swift_conf(swift_conf),
    m_pending(requests)
{
}

void
Submitter::require(const queue::Target& target, std::uint64_t object_count, std::uint64_t expected)
{
  if (target.object.empty()) {
    return;
  }
  auto key = std::make_pair(target.account, target.container);
  if (!m_existence || key != m_checked || target.object <= m_last_object) {
    // Another container, or not in order: a new merge.
    m_existence =
      std::make_unique<ObjectExistence>(m_client, target.account, target.container, object_count);
    m_existence->expect(expected);
    m_checked = std::move(key);
  }
  m_last_object = target.object;
  if (!m_existence->exists(target.object)) {
    throw SwiftError(fmt::format("object {} does not exist", printable(to_string(target))), 404);
  }
}

ContainerFacts
Submitter::container(const queue::Target& target)
{
  const auto key = std::make_pair(target.account, target.container);
  auto known = m_containers.find(key);
  if (known == m_containers.end()) {
    if (m_refusal_status != 0 && key == m_refused) {
      throw SwiftError(m_refusal, m_refusal_status);
    }
    try {
      const auto container = head_container(m_client, target);
      const auto& policy = container.storage_policy.empty()
                             ? m_swift_conf.default_policy()
                             : m_swift_conf.find_policy(container.storage_policy);
      known = m_containers.emplace(key, std::make_pair(policy.index, container.object_count)).first;
    } catch (const SwiftError& e) {
      m_refused = key;
      m_refusal = e.what();
      m_refusal_status = e.http_status();
      throw;
    }
  }
  return {known->second.first, known->second.second};
}

Submitted
Submitter::submit(Operation operation, const queue::Target& target)
{
  if (operation == Operation::status) {
    throw InputError("only migrate and recall requests are queued");
  }
  const auto facts = container(target);
  require(target, facts.object_count);
  const auto copies = operation == Operation::recall ? m_copies : std::nullopt;
  const auto days = operation == Operation::recall ? m_days : std::nullopt;
  const queue::Entry same{{}, operation, target, facts.policy_index};
  if (auto listed = m_pending.find_listed(same, copies, days)) {
    Submitted submitted;
    submitted.entry = *listed->entry;
    submitted.id = listed->row.name;
    submitted.outcome = SubmitOutcome::already_queued;
    // Asked again at a higher priority: the pending one gets it.
    const int pending_priority =
      queue::priority_of(listed->row.content_type).value_or(queue::default_priority(operation));
    if (m_priority && *m_priority > pending_priority) {
      m_requests.set_priority(*listed, *m_priority);
      submitted.raised_to = m_priority;
    }
    return submitted;
  }
  // On disk already: nothing to do, unless --days sets or extends its
  // expiry (which the recall does on the node).
  if (operation == Operation::recall && !target.object.empty() && m_on_disk && !days
      && m_on_disk(target, copies)) {
    Submitted submitted;
    submitted.entry = same;
    submitted.outcome = SubmitOutcome::on_disk;
    return submitted;
  }
  return enqueue(operation, target, facts.policy_index);
}

Submitted
Submitter::enqueue(Operation operation, const queue::Target& target, int policy_index)
{
  Submitted submitted;
  submitted.entry.submitted = queue::format_submitted(std::chrono::system_clock::now());
  submitted.entry.operation = operation;
  submitted.entry.target = target;
  submitted.entry.policy_index = policy_index;
  submitted.id = m_requests.submit(submitted.entry,
                                   operation == Operation::recall ? m_copies : std::nullopt,
                                   m_priority,
                                   operation == Operation::recall ? m_days : std::nullopt);
  return submitted;
}

namespace {

// Room for a manifest's last line, {"end":true,"count":N}.
constexpr std::size_t k_manifest_end_bytes = 64;

} // namespace

BulkSubmitter::BulkSubmitter(Submitter& submitter,
                             std::size_t min_objects,
                             std::size_t max_manifest_bytes)
  : m_submitter(submitter),
    m_min_objects(min_objects),
    m_max_manifest_bytes(max_manifest_bytes)
{
}

void
BulkSubmitter::start(Operation operation, const queue::Target& target)
{
  if (operation == Operation::status) {
    throw InputError("only migrate and recall requests are queued");
  }
  m_writer.reset();
  m_header.reset();
  const auto facts = m_submitter.container(target);
  m_header = queue::ListHeader{operation, target.account, target.container, facts.policy_index};
  m_object_count = facts.object_count;
}

void
BulkSubmitter::open()
{
  // A list's failed objects are rows named like its row but for the list
  // id (hlmctl wait finds them by that prefix): two lists of a container
  // must not share a submission time.
  auto submitted = queue::format_submitted(std::chrono::system_clock::now());
  while (submitted == m_last_submitted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    submitted = queue::format_submitted(std::chrono::system_clock::now());
  }
  m_last_submitted = submitted;
  m_batch = ListBatch{*m_header, std::move(submitted), std::string(), 0};
  m_writer = std::make_unique<queue::ManifestWriter>(*m_header, [this](std::string_view bytes) {
    m_batch.manifest.append(bytes);
  });
}

ListBatch
BulkSubmitter::close()
{
  m_batch.count = m_writer->finish();
  m_writer.reset();
  return std::move(m_batch);
}

std::optional<ListBatch>
BulkSubmitter::add(const queue::Target& target)
{
  if (!m_header || target.account != m_header->account || target.container != m_header->container
      || target.object.empty()) {
    throw InputError("BulkSubmitter::add: an object of the container started");
  }
  std::optional<ListBatch> full;
  const auto line = nlohmann::json(target.object).dump().size() + 1;
  if (m_writer && m_batch.count > 0
      && m_batch.manifest.size() + line + k_manifest_end_bytes > m_max_manifest_bytes) {
    full = close();
  }
  if (!m_writer) {
    open();
  }
  m_writer->add(target.object);
  ++m_batch.count;
  return full;
}

void
BulkSubmitter::check(const queue::Target& target)
{
  if (!m_header) {
    throw InputError("BulkSubmitter::check before start");
  }
  m_submitter.require(target, m_object_count, m_min_objects);
}

std::optional<ListBatch>
BulkSubmitter::finish()
{
  if (!m_writer) {
    return std::nullopt;
  }
  return close();
}

std::string
BulkSubmitter::queue(const ListBatch& batch)
{
  return m_submitter.requests().submit_list(
    batch.header,
    batch.submitted,
    batch.manifest,
    batch.count,
    batch.header.operation == Operation::recall ? m_submitter.copies() : std::nullopt,
    m_submitter.priority(),
    batch.header.operation == Operation::recall ? m_submitter.days() : std::nullopt);
}

} // namespace hlm::ctl
