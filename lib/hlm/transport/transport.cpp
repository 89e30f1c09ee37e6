#include <hlm/transport/transport.hpp>

namespace hlm::transport {

RunResult
Transport::run(const std::vector<std::string>& argv,
               std::string_view input,
               const OutputCallback& on_output)
{
  const auto channel = start(argv, on_output);
  channel->send(input);
  return channel->finish();
}

} // namespace hlm::transport
