#pragma once

#include <hlm/core/operation.hpp>
#include <hlm/core/swift_name.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hlm::queue {

// Where the queue lives, as SwiftHLM laid it out: a hidden account that only
// the direct container-server protocol reaches, one container of pending
// requests and one of failed requests, zero-byte rows of this content type.
inline constexpr std::string_view k_queue_account = ".swifthlm";
inline constexpr std::string_view k_pending_container = "pending-hlm-requests";
inline constexpr std::string_view k_failed_container = "failed-hlm-requests";
inline constexpr std::string_view k_entry_content_type = "application/swifthlm-task";

// What a request is about: a container (object empty) or one object.
using Target = SwiftName;

// One queued migrate or recall request; its encoded form is the row name
// and so also the request id.
struct Entry
{
  std::string submitted;                    // "YYYYmmddHHMMSS.mmm", UTC (see format_submitted)
  Operation operation = Operation::migrate; // never status
  Target target;
  int policy_index = 0;

  bool operator==(const Entry&) const = default;
};

// "/<submitted>/<op>/<account>/<container>/<policy-index>[/<object>]"; the
// object is appended as is, '/' and any UTF-8 included. Throws
// hlm::InputError when a part cannot be encoded unambiguously: an empty
// account or container, '/' in either, invalid UTF-8 or NUL anywhere, the
// status operation, a negative policy index, or `submitted` not exactly 14
// digits, '.', 3 digits.
std::string encode_entry(const Entry& entry);

// The inverse of encode_entry. Also reads the legacy SwiftHLM form
// "<submitted>--<op>--<account>--<container>--<policy>[--<object>]" (split
// at the first four "--"; the policy is digits; the object is the rest).
// Throws hlm::InputError naming the entry (escaped with printable()) and the
// first thing wrong with it.
Entry decode_entry(std::string_view name);

// `time` as "YYYYmmddHHMMSS.mmm" in UTC, truncated to the millisecond.
std::string format_submitted(std::chrono::system_clock::time_point time);

// How many replicas of each object a recall keeps on disk
// (`hlmctl recall --copies N|all`): 1 or more, or k_all_copies. It rides
// in the pending row's content type as a parameter,
// "application/swifthlm-task; copies=N" (or "copies=all"), beside the
// retry state, so SwiftHLM's readers of the entry name are not affected.
inline constexpr std::size_t k_all_copies = SIZE_MAX;
inline constexpr std::string_view k_copies_parameter = "copies=";
inline constexpr std::size_t k_max_copies = 1'000;

// "all" or digits 1..k_max_copies; nullopt otherwise.
std::optional<std::size_t> parse_copies(std::string_view text);
// "all" or the number.
std::string format_copies(std::size_t copies);
// The copies parameter of a row's content type (as written, or as a listing
// shows it); nullopt when it has none or it is malformed (read as the
// configured default).
std::optional<std::size_t> copies_of(std::string_view content_type);
// `content_type` with "; copies=..." appended (nothing when `copies` is
// unset).
std::string with_copies(std::string content_type, std::optional<std::size_t> copies);

// A request's priority (hlmctl --priority), from 0 to k_max_priority, in
// its row's content type as "; priority=N" beside copies; a row without it
// has its operation's default (default_priority).
inline constexpr std::string_view k_priority_parameter = "priority=";
inline constexpr int k_max_priority = 9;
inline constexpr int k_priority_low = 2;
inline constexpr int k_priority_normal = 5;
inline constexpr int k_priority_high = 8;
// "low", "normal", "high" or a digit 0..9; nullopt otherwise.
std::optional<int> parse_priority(std::string_view text);
// recall: high (tape users wait for recalls; BlackPearl's GET), migrate:
// normal.
int default_priority(Operation operation);
std::optional<int> priority_of(std::string_view content_type);
std::string with_priority(std::string content_type, std::optional<int> priority);
// A recall's restore expiry in days (hlmctl recall --days N), 1 to
// k_max_days, in its row's content type as "; days=N": once recalled, its
// replicas go back to tape N days later (hlmctl(1), "Restore expiry").
inline constexpr std::string_view k_days_parameter = "days=";
inline constexpr int k_max_days = 36'500;
std::optional<int> days_of(std::string_view content_type);
std::string with_days(std::string content_type, std::optional<int> days);
// A release: the migrate hlm-dispatch queues when a restore expiry is due,
// "; release=<Unix seconds>" (the expiry). It migrates only the replicas
// whose restore mark is due by then (hlm-handler(8)).
inline constexpr std::string_view k_release_parameter = "release=";
std::optional<std::int64_t> release_of(std::string_view content_type);
std::string with_release(std::string content_type, std::optional<std::int64_t> release);
// `content_type` with the copies, priority, days and release parameters
// of `from` (a row's content type being rewritten) kept.
std::string with_parameters_of(std::string content_type, std::string_view from);

// The seed's rule for "which requests concern this target": a container
// query matches every entry of that container, container and object entries
// alike; an object query matches entries for that object and entries for its
// container; a query without a container matches every entry of its account.
bool concerns(const Entry& entry, const Target& query);

} // namespace hlm::queue
