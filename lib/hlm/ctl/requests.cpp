#include <hlm/ctl/requests.hpp>

namespace hlm::ctl {

std::size_t
requests_for(queue::RequestQueue& requests,
             const queue::Target& target,
             const std::function<void(const RequestLine&)>& on_request)
{
  std::size_t count = 0;
  for (const auto which : {queue::Which::pending, queue::Which::failed}) {
    requests.for_each(which, [&](const queue::ListedEntry& listed) {
      if (listed.entry && queue::concerns(*listed.entry, target)) {
        on_request({which, listed.row.name, *listed.entry, listed.reason, listed.retry});
        ++count;
      }
      return true;
    });
  }
  return count;
}

} // namespace hlm::ctl
