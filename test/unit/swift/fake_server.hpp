#pragma once

// A deliberately simple HTTP/1.1 server on 127.0.0.1 and an ephemeral port,
// for unit tests of the Swift client: one thread per connection, keep-alive,
// Content-Length bodies only, and a scripted handler per request. It counts
// accepted connections so that tests can observe connection reuse.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace hlm::test {

using FakeHeaders = std::vector<std::pair<std::string, std::string>>;

inline std::string
fake_lower(std::string_view text)
{
  std::string out(text);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// Independent of the client's own encoder on purpose.
inline std::string
fake_percent_decode(std::string_view text)
{
  const auto hex = [](char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

inline std::optional<std::string>
fake_find(const FakeHeaders& headers, std::string_view name)
{
  for (const auto& [key, value] : headers) {
    if (fake_lower(key) == fake_lower(name)) {
      return value;
    }
  }
  return std::nullopt;
}

struct FakeRequest
{
  std::string method;
  std::string target;                       // as sent: "/v1/AUTH_test/c?format=json"
  std::string path;                         // percent-decoded path part of the target
  std::map<std::string, std::string> query; // decoded names and values
  FakeHeaders headers;
  std::string body;
  std::size_t connection = 0; // 1 for the first accepted connection

  std::optional<std::string>
  header(std::string_view name) const
  {
    return fake_find(headers, name);
  }

  std::string
  param(const std::string& name) const
  {
    const auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
};

struct FakeResponse
{
  int status = 200;
  FakeHeaders headers;
  std::string body;
  // Written instead of a response (then the connection closes): for
  // truncated or garbage answers. An empty string closes without a word.
  std::optional<std::string> raw;
  bool close = false;
  std::chrono::milliseconds delay{0}; // before answering
};

class FakeServer
{
public:
  using Handler = std::function<FakeResponse(const FakeRequest&)>;

  explicit FakeServer(Handler handler)
    : m_handler(std::move(handler))
  {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    if (m_listen < 0) {
      throw std::runtime_error("socket failed");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(m_listen, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0
        || ::listen(m_listen, 64) != 0) {
      ::close(m_listen);
      throw std::runtime_error("bind/listen failed: " + std::string(std::strerror(errno)));
    }
    socklen_t length = sizeof address;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&address), &length);
    m_port = ntohs(address.sin_port);
    m_acceptor = std::thread([this] { accept_loop(); });
  }

  ~FakeServer()
  {
    m_stopping = true;
    ::shutdown(m_listen, SHUT_RDWR);
    m_acceptor.join();
    {
      std::lock_guard lock(m_mutex);
      for (const int fd : m_open) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
    for (auto& thread : m_workers) {
      thread.join();
    }
    ::close(m_listen);
  }

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int
  port() const
  {
    return m_port;
  }

  // "http://127.0.0.1:<port>"
  std::string
  url() const
  {
    return "http://127.0.0.1:" + std::to_string(m_port);
  }

  std::size_t
  connections() const
  {
    return m_connections;
  }

  std::vector<FakeRequest>
  requests() const
  {
    std::lock_guard lock(m_mutex);
    return m_requests;
  }

  void
  set_handler(Handler handler)
  {
    std::lock_guard lock(m_handler_mutex);
    m_handler = std::move(handler);
  }

private:
  void
  accept_loop()
  {
    while (!m_stopping) {
      const int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) {
        if (errno == EINTR) {
          continue;
        }
        return;
      }
      std::lock_guard lock(m_mutex);
      const std::size_t number = ++m_connections;
      m_open.push_back(fd);
      m_workers.emplace_back([this, fd, number] { serve(fd, number); });
    }
  }

  // Reads until `buffer` holds `wanted` bytes; false on EOF or error.
  static bool
  fill(int fd, std::string& buffer, std::size_t wanted)
  {
    char chunk[16384];
    while (buffer.size() < wanted) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        return false;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  static bool
  read_head(int fd, std::string& buffer, std::string& head)
  {
    char chunk[16384];
    for (;;) {
      const auto end = buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        head = buffer.substr(0, end);
        buffer.erase(0, end + 4);
        return true;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        return false;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }

  static void
  send_all(int fd, std::string_view data)
  {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  static FakeRequest
  parse(const std::string& head)
  {
    FakeRequest request;
    std::size_t line_end = head.find("\r\n");
    const std::string line = head.substr(0, line_end);
    const auto first_space = line.find(' ');
    const auto second_space = line.rfind(' ');
    request.method = line.substr(0, first_space);
    request.target = line.substr(first_space + 1, second_space - first_space - 1);
    const auto question = request.target.find('?');
    request.path = fake_percent_decode(request.target.substr(0, question));
    if (question != std::string::npos) {
      std::string_view rest = std::string_view(request.target).substr(question + 1);
      while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        const auto equals = pair.find('=');
        request.query[fake_percent_decode(pair.substr(0, equals))] =
          equals == std::string_view::npos ? std::string()
                                           : fake_percent_decode(pair.substr(equals + 1));
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      }
    }
    while (line_end != std::string::npos) {
      const auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string header = head.substr(start,
                                             line_end == std::string::npos ? std::string::npos
                                                                           : line_end - start);
      const auto colon = header.find(':');
      if (colon == std::string::npos) {
        continue;
      }
      auto value = header.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') {
        value.erase(0, 1);
      }
      request.headers.emplace_back(header.substr(0, colon), value);
    }
    return request;
  }

  void
  serve(int fd, std::size_t number)
  {
    std::string buffer;
    std::string head;
    while (!m_stopping && read_head(fd, buffer, head)) {
      FakeRequest request = parse(head);
      request.connection = number;
      const auto length = request.header("Content-Length");
      const std::size_t body_size = length ? std::stoul(*length) : 0;
      if (!fill(fd, buffer, body_size)) {
        break;
      }
      request.body = buffer.substr(0, body_size);
      buffer.erase(0, body_size);
      {
        std::lock_guard lock(m_mutex);
        m_requests.push_back(request);
      }
      FakeResponse response;
      {
        std::lock_guard lock(m_handler_mutex);
        response = m_handler(request);
      }
      if (response.delay.count() > 0) {
        std::this_thread::sleep_for(response.delay);
      }
      if (response.raw) {
        send_all(fd, *response.raw);
        break;
      }
      std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Fake\r\n";
      if (!fake_find(response.headers, "Content-Length")) {
        response.headers.emplace_back("Content-Length", std::to_string(response.body.size()));
      }
      const bool close = response.close
                         || fake_lower(request.header("Connection").value_or("")) == "close";
      if (close) {
        response.headers.emplace_back("Connection", "close");
      }
      for (const auto& [name, value] : response.headers) {
        out += name + ": " + value + "\r\n";
      }
      out += "\r\n";
      if (request.method != "HEAD") {
        out += response.body;
      }
      send_all(fd, out);
      if (close) {
        break;
      }
    }
    std::lock_guard lock(m_mutex);
    ::close(fd);
    std::erase(m_open, fd);
  }

  Handler m_handler;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::atomic<std::size_t> m_connections{0};
  std::thread m_acceptor;
  mutable std::mutex m_mutex; // m_open, m_workers, m_requests
  std::mutex m_handler_mutex;
  std::vector<int> m_open;
  std::vector<std::thread> m_workers;
  std::vector<FakeRequest> m_requests;
};

// A loopback port nothing listens on (bound, then released).
inline int
closed_port()
{
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

} // namespace hlm::test
