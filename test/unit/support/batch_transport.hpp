#pragma once

#include <hlm/transport/transport.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hlm::test {

// A fake transport for unit tests whose program answers the whole input at
// once: its channel collects what is sent and calls run_batch when it
// finishes, so nothing is answered before finish().
class BatchTransport : public transport::Transport
{
public:
  std::unique_ptr<transport::Channel>
  start(const std::vector<std::string>& argv, transport::OutputCallback on_output) final
  {
    return std::make_unique<BatchChannel>(*this, argv, std::move(on_output));
  }

protected:
  virtual transport::RunResult run_batch(const std::vector<std::string>& argv,
                                         std::string_view input,
                                         const transport::OutputCallback& on_output) = 0;

private:
  class BatchChannel final : public transport::Channel
  {
  public:
    BatchChannel(BatchTransport& transport,
                 std::vector<std::string> argv,
                 transport::OutputCallback on_output)
      : m_transport(transport),
        m_argv(std::move(argv)),
        m_on_output(std::move(on_output))
    {
    }

    bool
    send(std::string_view data) override
    {
      m_input.append(data);
      return true;
    }

    bool
    wait_for(const std::function<bool()>& done) override
    {
      return done();
    }

    transport::RunResult
    finish() override
    {
      return m_transport.run_batch(m_argv, m_input, m_on_output);
    }

  private:
    BatchTransport& m_transport;
    std::vector<std::string> m_argv;
    transport::OutputCallback m_on_output;
    std::string m_input;
  };
};

} // namespace hlm::test
