#include <hlm/transport/transport.hpp>
#include <hlm/util/process.hpp>

namespace hlm::transport {

namespace {

ProcessOptions
local_options()
{
  // The program stays in our process group, so that Ctrl-C on the
  // terminal reaches it as it would from a shell; no timeout.
  ProcessOptions options;
  options.own_process_group = false;
  return options;
}

class LocalChannel : public Channel
{
public:
  LocalChannel(const std::vector<std::string>& argv, OutputCallback on_output)
    : m_session(
      argv,
      [on_output = std::move(on_output)](std::string_view chunk) {
        on_output(chunk);
        return true;
      },
      local_options())
  {
  }

  bool
  send(std::string_view data) override
  {
    return m_session.send(data);
  }

  bool
  wait_for(const std::function<bool()>& done) override
  {
    return m_session.wait_for(done);
  }

  bool
  wait_for_at_most(const std::function<bool()>& done, std::chrono::milliseconds limit) override
  {
    return m_session.wait_for(done, limit);
  }

  RunResult
  finish() override
  {
    auto result = m_session.finish();
    RunResult run_result;
    run_result.exit_status = result.exit_status;
    run_result.signal = std::move(result.signal);
    run_result.error_output = std::move(result.error_output);
    run_result.input_truncated = result.input_truncated;
    return run_result;
  }

private:
  ProcessSession m_session;
};

class LocalTransport : public Transport
{
public:
  std::string
  describe() const override
  {
    return "local";
  }

  std::unique_ptr<Channel>
  start(const std::vector<std::string>& argv, OutputCallback on_output) override
  {
    return std::make_unique<LocalChannel>(argv, std::move(on_output));
  }
};

} // namespace

std::unique_ptr<Transport>
make_local_transport()
{
  return std::make_unique<LocalTransport>();
}

} // namespace hlm::transport
