#include <hlm/ctl/requests.hpp>
#include <hlm/util/error.hpp>

namespace hlm::ctl {

namespace {

std::size_t
lists_for(queue::RequestQueue& requests,
          const queue::Target& target,
          const std::function<void(const RequestLine&)>& on_request)
{
  std::size_t count = 0;
  requests.for_each_list([&](const queue::ListedList& list) {
    if (list_concerns(requests, list, target)) {
      on_request({queue::Which::pending,
                  list.row.name,
                  *list.entry,
                  std::nullopt,
                  queue::retry_state_of(list.row.content_type),
                  list.progress,
                  true,
                  queue::priority_of(list.row.content_type)
                    .value_or(queue::default_priority(list.entry->operation)),
                  queue::days_of(list.row.content_type)});
      ++count;
    }
    return true;
  });
  return count;
}

} // namespace

bool
list_concerns(queue::RequestQueue& requests,
              const queue::ListedList& list,
              const queue::Target& target)
{
  if (!list.entry) {
    return false;
  }
  queue::Entry as_container = *list.entry;
  as_container.target.object.clear();
  if (!queue::concerns(as_container, target)) {
    return false;
  }
  if (target.object.empty()) {
    return true;
  }
  bool found = false;
  try {
    requests.read_list(list,
                       [&](std::string_view name) { found = found || name == target.object; });
  } catch (const Error&) {
    return true; // it may
  }
  return found;
}

std::size_t
requests_for(queue::RequestQueue& requests,
             const queue::Target& target,
             const std::function<void(const RequestLine&)>& on_request)
{
  std::size_t count = 0;
  for (const auto which : {queue::Which::pending, queue::Which::failed}) {
    requests.for_each(which, [&](const queue::ListedEntry& listed) {
      if (listed.entry && queue::concerns(*listed.entry, target)) {
        on_request({which,
                    listed.row.name,
                    *listed.entry,
                    listed.reason,
                    listed.retry,
                    {},
                    false,
                    queue::priority_of(listed.row.content_type)
                      .value_or(queue::default_priority(listed.entry->operation)),
                    queue::days_of(listed.row.content_type),
                    queue::release_of(listed.row.content_type)});
        ++count;
      }
      return true;
    });
    if (which == queue::Which::pending) {
      count += lists_for(requests, target, on_request);
    }
  }
  return count;
}

} // namespace hlm::ctl
