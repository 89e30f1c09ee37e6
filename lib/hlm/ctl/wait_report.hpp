#pragma once

#include <hlm/ctl/wait.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace hlm::ctl {

// `ids` with each id once, in the order first named (an id named twice,
// or by its id and its target, is one request).
std::vector<std::string> unique_ids(std::vector<std::string> ids);

// "2 of 3 requests pending (1 to be retried), 0 failed": the progress of
// one look.
std::string wait_progress_text(const WaitProgress& progress);

// Reports `result` for `requested` requests and returns the exit status:
// 0 all done, 3 some failed, 1 timed out (with an error on `err` naming
// `timeout_seconds`), 130 interrupted. Without `json`, a summary line and
// each failed request with its reason on `out`; with `json`, the document
// {"requests", "done", "failed": [{"id", "reason"}], "pending",
// "timed_out"}, stored in `*json_out` when given, else printed on `out`.
int report_wait(const WaitResult& result,
                std::size_t requested,
                const std::optional<double>& timeout_seconds,
                bool json,
                std::ostream& out,
                std::ostream& err,
                nlohmann::json* json_out = nullptr);

} // namespace hlm::ctl
