#include <hlm/transport/transport.hpp>
#include <hlm/util/process.hpp>

namespace hlm::transport {

namespace {

class LocalTransport : public Transport
{
public:
  std::string
  describe() const override
  {
    return "local";
  }

  RunResult
  run(const std::vector<std::string>& argv,
      std::string_view input,
      const std::function<void(std::string_view)>& on_output) override
  {
    // The program stays in our process group, so that Ctrl-C on the
    // terminal reaches it as it would from a shell; no timeout.
    ProcessOptions options;
    options.own_process_group = false;
    auto result = run_process(
      argv,
      input,
      [&](std::string_view chunk) {
        on_output(chunk);
        return true;
      },
      options);
    RunResult run_result;
    run_result.exit_status = result.exit_status;
    run_result.signal = std::move(result.signal);
    run_result.error_output = std::move(result.error_output);
    run_result.input_truncated = result.input_truncated;
    return run_result;
  }
};

} // namespace

std::unique_ptr<Transport>
make_local_transport()
{
  return std::make_unique<LocalTransport>();
}

} // namespace hlm::transport
