#pragma once

#include <stdexcept>
#include <string>

namespace hlm {

// Base of every failure the library signals. Expected outcomes (an object
// not on this node, a 404 on a lookup) are values, never exceptions.
class Error : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

// A configuration file, ring or command line the operator must fix.
class ConfigError : public Error
{
public:
  using Error::Error;
};

// Input that does not follow the documented format (request documents,
// queue entries, object paths).
class InputError : public Error
{
public:
  using Error::Error;
};

// A network or process transport failed; `transient()` says whether a retry
// may help.
class TransportError : public Error
{
public:
  TransportError(const std::string& what, bool transient)
    : Error(what),
      m_transient(transient)
  {
  }

  bool
  transient() const noexcept
  {
    return m_transient;
  }

private:
  bool m_transient;
};

// Swift answered with an HTTP status the caller did not expect.
class SwiftError : public Error
{
public:
  SwiftError(const std::string& what, int http_status)
    : Error(what),
      m_http_status(http_status)
  {
  }

  int
  http_status() const noexcept
  {
    return m_http_status;
  }

private:
  int m_http_status;
};

} // namespace hlm
