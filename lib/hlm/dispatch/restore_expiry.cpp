#include <hlm/core/swift_timestamp.hpp>
#include <hlm/dispatch/fault_point.hpp>
#include <hlm/dispatch/restore_expiry.hpp>
#include <hlm/queue/entry.hpp>
#include <hlm/util/error.hpp>
#include <hlm/util/utc_time.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <vector>

namespace hlm::dispatch {

namespace {

constexpr std::int64_t k_day = 86'400;

std::string
submitted_at(std::int64_t unix_seconds)
{
  return queue::format_submitted(
    std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

} // namespace

std::int64_t
restore_expiry(std::int64_t now, int days)
{
  const std::int64_t at = now + static_cast<std::int64_t>(days) * k_day;
  return (at + k_day - 1) / k_day * k_day;
}

int
allowed_days(int days, const config::HlmConf& conf)
{
  return conf.max_restore_days > 0 ? std::min(days, conf.max_restore_days) : days;
}

std::string
expiry_text(std::int64_t expiry)
{
  return format_utc(std::chrono::sys_time<std::chrono::microseconds>(std::chrono::seconds(expiry)),
                    "%Y-%m-%dT%H:%M:%SZ");
}

std::string
restore_header_value(std::int64_t expiry)
{
  using namespace std::chrono;
  static constexpr std::array<std::string_view, 7> k_days =
    {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> k_months =
    {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds time{seconds(expiry)};
  const auto day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  return fmt::format(
    R"(ongoing-request="false", expiry-date="{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT")",
    k_days[weekday(day).c_encoding()],
    static_cast<unsigned>(date.day()),
    k_months[static_cast<unsigned>(date.month()) - 1],
    static_cast<int>(date.year()),
    clock.hours().count(),
    clock.minutes().count(),
    clock.seconds().count());
}

std::string
release_name(const queue::Entry& recall, std::int64_t expiry)
{
  queue::Entry release = recall;
  release.submitted = submitted_at(expiry);
  release.operation = Operation::migrate;
  return queue::encode_entry(release);
}

void
schedule_release(queue::RequestQueue& requests, const queue::Entry& recall, std::int64_t expiry)
{
  requests.direct().put_row_quorum(
    k_expiry_container,
    release_name(recall, expiry),
    SwiftTimestamp::now(),
    queue::with_release(std::string(queue::k_entry_content_type), expiry));
}

namespace {

// The reminders due by `now`, at most `limit`. Names start with
// "/<expiry as a submission time>/", so the due ones come first; the first
// not due ends the listing.
std::vector<queue::Row>
due_reminders(queue::RequestQueue& requests, std::int64_t now, std::size_t limit)
{
  const std::string due_by = "/" + submitted_at(now + 1);
  std::vector<queue::Row> due;
  requests.direct().list_rows(k_expiry_container, {}, [&](const queue::Row& row) {
    if (row.name >= due_by || due.size() >= limit) {
      return false;
    }
    due.push_back(row);
    return true;
  });
  return due;
}

} // namespace

std::size_t
count_due_releases(queue::RequestQueue& requests, std::int64_t now)
{
  return due_reminders(requests, now, SIZE_MAX).size();
}

std::size_t
queue_due_releases(queue::RequestQueue& requests, std::int64_t now, std::size_t limit)
{
  const auto due = due_reminders(requests, now, limit);
  std::size_t queued = 0;
  for (const auto& row : due) {
    const auto release = queue::release_of(row.content_type);
    if (release) {
      requests.put_row(
        queue::Which::pending,
        row.name,
        queue::with_release(
          queue::with_priority(std::string(queue::k_entry_content_type), queue::k_priority_low),
          *release));
      ++queued;
      fault_point("release-queued");
    }
    // A row that is no reminder of hlm's is dropped too, not kept forever.
    requests.direct().delete_row(k_expiry_container, row.name, row.timestamp.plus_offset(1));
  }
  return queued;
}

} // namespace hlm::dispatch
