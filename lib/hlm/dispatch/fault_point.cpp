#include <hlm/dispatch/fault_point.hpp>

#include <unistd.h>

#include <cstdlib>

namespace hlm::dispatch {

void
fault_point(std::string_view point)
{
  const char* fault = std::getenv("HLM_DISPATCH_FAULT");
  if (fault && point == fault) {
    ::_exit(86);
  }
}

} // namespace hlm::dispatch
