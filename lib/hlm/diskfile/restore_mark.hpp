#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The restore expiry of a replica brought back by `hlmctl recall --days N`
// (hlm-handler(8), "Restore expiry"): an extended attribute on the
// replica's .data file, ASCII decimal Unix seconds. hlm-handler writes and
// clears it; hlm_swift.replica reads it for the guarded reads'
// X-HLM-Restore header. It means something only while the replica's data
// is on disk: Swift never reads it, a new PUT writes a new .data file
// without one, and a migrate clears it.
namespace hlm::diskfile {

inline constexpr std::string_view k_restore_mark_attribute = "user.hlm.restore-expiry";

// The file's mark: nullopt when it has none (or the file system keeps no
// user attributes). Throws hlm::Error when it cannot be read, and
// hlm::InputError when its value is not Unix seconds (digits, at most the
// year 9999).
std::optional<std::int64_t> read_restore_mark(const std::string& file);

// Sets the mark to `expiry`. Throws hlm::Error naming the file and the
// cause.
void write_restore_mark(const std::string& file, std::int64_t expiry);

// Removes the mark; none there is not an error. Throws hlm::Error naming
// the file and the cause.
void clear_restore_mark(const std::string& file);

// The mark's text for `expiry`, and its value from `text` (nullopt when it
// is not one).
std::string format_restore_mark(std::int64_t expiry);
std::optional<std::int64_t> parse_restore_mark(std::string_view text);

} // namespace hlm::diskfile
