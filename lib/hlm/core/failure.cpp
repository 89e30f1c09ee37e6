#include <hlm/core/failure.hpp>

namespace hlm {

std::string_view
to_string(FailureKind kind)
{
  switch (kind) {
  case FailureKind::unreachable:
    return "unreachable";
  case FailureKind::node:
    return "node";
  case FailureKind::backend:
    return "backend";
  case FailureKind::missing:
    return "missing";
  case FailureKind::deleted:
    return "deleted";
  case FailureKind::rejected:
    break;
  }
  return "rejected";
}

std::optional<FailureKind>
parse_failure_kind(std::string_view text)
{
  for (const auto kind : k_failure_kinds) {
    if (text == to_string(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

bool
transient_by_default(FailureKind kind)
{
  return kind != FailureKind::deleted && kind != FailureKind::rejected;
}

Failure
make_failure(FailureKind kind, std::string message, std::string node)
{
  return {kind, transient_by_default(kind), std::move(message), std::move(node)};
}

} // namespace hlm
