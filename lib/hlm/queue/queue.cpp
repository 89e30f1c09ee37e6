#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/md5.hpp>
#include <hlm/util/percent.hpp>
#include <hlm/util/strings.hpp>

#include <fmt/format.h>

#include <cstdint>

namespace hlm::queue {

namespace {

constexpr std::string_view k_reason_parameter = "reason=";
constexpr std::string_view k_cut_marker = "...";

bool
is_continuation(unsigned char c)
{
  return (c & 0xc0) == 0x80;
}

// Only unreserved characters and "%XX" are left, all of them RFC 2616
// token characters, so Swift's content-type parser keeps the value whole.
std::string
encode_reason(std::string_view reason)
{
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  // The longest output that ends before a lead byte and leaves room for
  // the cut marker.
  std::size_t last_fit = 0;
  for (std::size_t i = 0; i < reason.size(); ++i) {
    const auto c = static_cast<unsigned char>(reason[i]);
    if (!is_continuation(c) && out.size() <= k_max_reason_bytes - k_cut_marker.size()) {
      last_fit = out.size();
    }
    if (is_url_unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 0xf];
    }
  }
  if (out.size() <= k_max_reason_bytes) {
    return out;
  }
  // Cut before a lead byte, never inside a character.
  out.resize(last_fit);
  out += k_cut_marker;
  return out;
}

ring::HashSecret
load_secret(const std::filesystem::path& swift_dir)
{
  const auto conf = ring::load_swift_conf(swift_dir);
  return {conf.hash_path_prefix, conf.hash_path_suffix};
}

} // namespace

std::string_view
container_of(Which which)
{
  return which == Which::pending ? k_pending_container : k_failed_container;
}

std::string
failed_content_type(std::string_view reason)
{
  if (reason.empty()) {
    return std::string(k_entry_content_type);
  }
  return fmt::format("{}; {}{}", k_entry_content_type, k_reason_parameter, encode_reason(reason));
}

std::optional<std::string>
reason_of(std::string_view content_type)
{
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    auto parameter = content_type.substr(pos + 1);
    const auto next = parameter.find(';');
    parameter = trim(parameter.substr(0, next));
    if (parameter.substr(0, k_reason_parameter.size()) == k_reason_parameter) {
      std::string reason = percent_decode(parameter.substr(k_reason_parameter.size()));
      if (!is_valid_utf8(reason)) {
        reason = printable(reason);
      }
      return reason;
    }
    pos = next == std::string_view::npos ? next : pos + 1 + next;
  }
  return std::nullopt;
}

RequestQueue::RequestQueue(swift::HttpClient& http,
                           const std::filesystem::path& swift_dir,
                           std::string account)
  : m_secret(load_secret(swift_dir)),
    m_ring(ring::Ring::load(ring::container_ring_path(swift_dir))),
    m_direct(http, m_ring, m_secret, std::move(account))
{
}

std::string
RequestQueue::submit(const Entry& entry)
{
  std::string name = encode_entry(entry);
  m_direct.put_row_quorum(
    k_pending_container, name, SwiftTimestamp::now(), k_entry_content_type);
  return name;
}

void
RequestQueue::for_each(Which which,
                       const std::function<bool(const ListedEntry&)>& on_entry,
                       const ListOptions& options)
{
  m_direct.list_rows(container_of(which), options, [&](const Row& row) {
    ListedEntry listed;
    listed.row = row;
    try {
      listed.entry = decode_entry(row.name);
    } catch (const InputError& e) {
      listed.decode_error = e.what();
    }
    if (which == Which::failed) {
      listed.reason = reason_of(row.content_type).value_or(std::string());
    }
    return on_entry(listed);
  });
}

// A dequeue deletes the row as of the row's own timestamp plus offset 1,
// not as of "now". Last write wins per row on the container servers, and
// Swift orders T_1 after T but before any later time. So the delete
// certainly removes the version that was listed (T), yet can never remove a
// re-submission of the same name, which is written with a fresh, later
// time, even when this delete reaches a replica late or is retried after
// the re-submission. A delete as of "now" would silently drop a request
// re-submitted between our listing and our delete. (Swift's reconciler pops
// its queue the same way: slightly_later_timestamp.) Rows are only ever
// written with offset 0, so the time from the listing is the whole
// timestamp.
void
RequestQueue::complete(const Row& pending_row)
{
  m_direct.delete_row(k_pending_container, pending_row.name, pending_row.timestamp.plus_offset(1));
}

void
RequestQueue::fail(const Row& pending_row, std::string_view reason)
{
  // Failed first: a crash in between leaves the request in both
  // containers, to be processed again, rather than in neither.
  m_direct.put_row_quorum(
    k_failed_container, pending_row.name, SwiftTimestamp::now(), failed_content_type(reason));
  complete(pending_row);
}

void
RequestQueue::park_undecodable(const Row& pending_row, std::string_view decode_error)
{
  fail(pending_row, fmt::format("cannot decode: {}", decode_error));
}

std::size_t
RequestQueue::clear_failed_before(const Target& target,
                                  connector::Operation operation,
                                  std::string_view submitted)
{
  return clear_failed([&](const Entry& failed) {
    return failed.target == target && failed.operation == operation && failed.submitted < submitted;
  });
}

std::size_t
RequestQueue::clear_failed(const std::function<bool(const Entry&)>& superseded)
{
  std::size_t cleared = 0;
  for_each(Which::failed, [&](const ListedEntry& listed) {
    if (listed.entry && superseded(*listed.entry)) {
      m_direct.delete_row(
        k_failed_container, listed.row.name, listed.row.timestamp.plus_offset(1));
      ++cleared;
    }
    return true;
  });
  return cleared;
}

bool
owned_by(std::string_view name, int processes, int process)
{
  if (processes < 0) {
    throw InputError(fmt::format("the number of processes must not be negative, not {}", processes));
  }
  const int divisor = processes == 0 ? 1 : processes;
  if (process < 0 || process >= divisor) {
    throw InputError(
      fmt::format("process {} is outside 0..{} for {} processes", process, divisor - 1, divisor));
  }
  // The digest as a 128-bit big-endian integer, reduced byte by byte:
  // (r * 256 + b) mod n stays below 2^40 for any int n.
  const auto digest = md5(name);
  const auto n = static_cast<std::uint64_t>(divisor);
  std::uint64_t remainder = 0;
  for (const auto byte : digest) {
    remainder = (remainder * 256 + byte) % n;
  }
  return remainder == static_cast<std::uint64_t>(process);
}

} // namespace hlm::queue
