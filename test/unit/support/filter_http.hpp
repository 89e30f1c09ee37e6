#pragma once

// An HttpClient that passes requests on, except those `refuse` says no to:
// 503, as a server that cannot take them.

#include <hlm/swift/http.hpp>

#include <functional>

namespace hlm::test {

class FilterHttp : public swift::HttpClient
{
public:
  explicit FilterHttp(swift::HttpClient& next)
    : m_next(next)
  {
  }

  std::function<bool(const swift::HttpRequest&)> refuse;

  swift::HttpResponse
  send(const swift::HttpRequest& request) override
  {
    if (refuse && refuse(request)) {
      return {503, {}, "Service Unavailable"};
    }
    return m_next.send(request);
  }

private:
  swift::HttpClient& m_next;
};

} // namespace hlm::test
