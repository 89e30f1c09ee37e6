#pragma once

#include <hlm/config/hlm_conf.hpp>
#include <hlm/queue/queue.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// Restore expiry (`hlmctl recall --days N`; hlmctl(1) and hlm-dispatch(8),
// "Restore expiry"). The recall marks each replica it brings back with its
// expiry (hlm-handler writes the mark; hlm-handler(8)). Before it is sent,
// hlm-dispatch stores a reminder: a row of the queue account's
// k_expiry_container named as the release it will queue, a migrate of the
// recall's target "submitted" at the expiry. Once due, a run moves the
// reminder to the pending queue (the same name, "; release=<expiry>"), and
// the release migrates only the replicas whose mark is due by then: a
// recall with more days since, or one without --days, keeps them.
//
// Nothing is released twice or never: the reminder is stored before any
// replica is marked, and deleted only after its release is queued (a run
// stopped in between queues the same row again); a release that finds a
// replica without a due mark (released already, or recalled since) keeps
// it.
namespace hlm::dispatch {

inline constexpr std::string_view k_expiry_container = "hlm-restore-expiries";

// The expiry of a restore of `days` days recalled at `now` (Unix seconds):
// `days` later, rounded up to the next midnight UTC, as S3 Glacier rounds
// it, so the replicas of one request expire together.
std::int64_t restore_expiry(std::int64_t now, int days);

// A queued recall's days as a run uses them: truncated to hlm.conf's
// max_restore_days whatever its action (a request accepted once is not
// refused later).
int allowed_days(int days, const config::HlmConf& conf);

// `expiry` as hlmctl and hlm-dispatch show it: "2026-12-11T00:00:00Z".
std::string expiry_text(std::int64_t expiry);

// The value S3 gives a restored object's x-amz-restore header, which
// hlmctl status --json and the guarded reads' X-HLM-Restore carry:
// ongoing-request="false", expiry-date="Fri, 11 Dec 2026 00:00:00 GMT".
std::string restore_header_value(std::int64_t expiry);

// The name of the release of `recall` (a recall entry; a list request's
// entry counts as its container) expiring at `expiry`.
std::string release_name(const queue::Entry& recall, std::int64_t expiry);

// Stores the reminder of that release (with a majority of the container
// replicas; hlm::TransportError otherwise).
void schedule_release(queue::RequestQueue& requests,
                      const queue::Entry& recall,
                      std::int64_t expiry);

// Queues the releases due by `now` (at most `limit`): each reminder
// becomes a pending row of its name, priority low, then is deleted.
// Returns how many were queued. hlm::TransportError when the reminders
// cannot be listed or a row cannot be written (those not yet queued wait
// for the next run).
std::size_t queue_due_releases(queue::RequestQueue& requests,
                               std::int64_t now,
                               std::size_t limit = 10'000);

// How many reminders are due by `now` (what queue_due_releases would
// queue), reading only.
std::size_t count_due_releases(queue::RequestQueue& requests, std::int64_t now);

} // namespace hlm::dispatch
