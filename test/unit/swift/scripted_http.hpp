#pragma once

// An HttpClient fake that answers from a script, for tests that need no
// sockets (retry decisions). Each step is a status or a TransportError.

#include <hlm/swift/http.hpp>
#include <hlm/util/error.hpp>

#include <deque>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace hlm::test {

struct Drop
{
  bool transient = true;
};

class ScriptedHttp : public swift::HttpClient
{
public:
  using Step = std::variant<int, Drop>;

  explicit ScriptedHttp(std::deque<Step> script)
    : m_script(std::move(script))
  {
  }

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    m_sent.push_back(request);
    if (m_script.empty()) {
      throw std::logic_error("script exhausted");
    }
    const Step step = m_script.front();
    m_script.pop_front();
    if (const auto* drop = std::get_if<Drop>(&step)) {
      throw TransportError("GET \"" + request.url + "\": connection lost: scripted",
                           drop->transient);
    }
    swift::HttpResponse response;
    response.status = std::get<int>(step);
    response.body = "status " + std::to_string(response.status);
    return response;
  }

  const std::vector<swift::HttpRequest>&
  sent() const
  {
    return m_sent;
  }

private:
  std::deque<Step> m_script;
  std::vector<swift::HttpRequest> m_sent;
};

} // namespace hlm::test
