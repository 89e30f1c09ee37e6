// The ssh transport against loopback peers that need no sshd: a closed port
// and a listener that never speaks. Runs against a real sshd live in
// test/integration/transport/.
#include "../support/temp_dir.hpp"

#include <hlm/transport/transport.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using namespace hlm;
using namespace hlm::transport;
using namespace std::chrono_literals;

namespace {

// A TCP socket on 127.0.0.1 with a kernel-chosen port. Listening, it
// completes handshakes into its backlog but never accepts or speaks: a
// frozen peer.
class LoopbackSocket
{
public:
  explicit LoopbackSocket(bool listen)
    : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
  {
    REQUIRE(m_fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    m_port = ntohs(address.sin_port);
    if (listen) {
      REQUIRE(::listen(m_fd, 16) == 0);
    }
  }
  ~LoopbackSocket()
  {
    ::close(m_fd);
  }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;

  int
  port() const
  {
    return m_port;
  }

private:
  int m_fd;
  int m_port = 0;
};

// A throwaway key pair, made by ssh-keygen through the local transport.
std::filesystem::path
make_identity(const test::TempDir& dir)
{
  const auto key = dir.path() / "id_ed25519";
  const auto result = make_local_transport()->run(
    {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hlm-unit-test", "-f", key.string()},
    "",
    [](std::string_view) {});
  REQUIRE(result.succeeded());
  return key;
}

SshOptions
options_for(int port, const test::TempDir& dir)
{
  SshOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.user = "nobody";
  options.identity_file = dir.path() / "id_ed25519";
  options.known_hosts_file = dir.path() / "known_hosts";
  options.connect_timeout = 700ms;
  options.io_timeout = 1s;
  return options;
}

void
run_nothing(Transport& transport)
{
  transport.run({"true"}, "", [](std::string_view) {});
}

} // namespace

TEST_CASE("ssh transport describes its peer", "[transport]")
{
  SshOptions options;
  options.host = "10.0.0.5";
  options.user = "swift";
  CHECK(make_ssh_transport(options)->describe() == "ssh swift@10.0.0.5:22");
  options.host = "fd00::5";
  options.port = 2222;
  CHECK(make_ssh_transport(options)->describe() == "ssh swift@[fd00::5]:2222");
}

TEST_CASE("ssh transport: a closed port fails fast and transiently", "[transport]")
{
  global_init();
  global_init(); // idempotent
  test::TempDir dir;
  make_identity(dir);
  int port = 0;
  {
    const LoopbackSocket bound(false); // reserves a port, then frees it
    port = bound.port();
  }
  auto transport = make_ssh_transport(options_for(port, dir));
  const auto start = std::chrono::steady_clock::now();
  try {
    run_nothing(*transport);
    FAIL("no exception");
  } catch (const TransportError& e) {
    CHECK(e.transient());
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("cannot connect to 127.0.0.1:" + std::to_string(port)));
    CHECK_THAT(what, Catch::Contains("refused"));
  }
  CHECK(std::chrono::steady_clock::now() - start < 700ms);
}

TEST_CASE("ssh transport: a peer that never speaks times out at connect", "[transport]")
{
  test::TempDir dir;
  make_identity(dir);
  const LoopbackSocket silent(true);
  auto transport = make_ssh_transport(options_for(silent.port(), dir));
  const auto start = std::chrono::steady_clock::now();
  try {
    run_nothing(*transport);
    FAIL("no exception");
  } catch (const TransportError& e) {
    CHECK(e.transient());
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("cannot connect to 127.0.0.1:" + std::to_string(silent.port())));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= 650ms);
  CHECK(elapsed < 3s);
}

TEST_CASE("ssh transport: configuration mistakes are not transient", "[transport]")
{
  test::TempDir dir;
  const LoopbackSocket silent(true);

  SECTION("missing identity file, found before any connection")
  {
    auto transport = make_ssh_transport(options_for(silent.port(), dir));
    const auto start = std::chrono::steady_clock::now();
    try {
      run_nothing(*transport);
      FAIL("no exception");
    } catch (const TransportError& e) {
      CHECK_FALSE(e.transient());
      const std::string what = e.what();
      CHECK_THAT(what, Catch::Contains("cannot read identity file"));
      CHECK_THAT(what, Catch::Contains("id_ed25519"));
    }
    CHECK(std::chrono::steady_clock::now() - start < 500ms);
  }

  SECTION("an identity file that is not a key")
  {
    dir.write("id_ed25519", "not a key\n");
    std::filesystem::permissions(dir.path() / "id_ed25519",
                                 std::filesystem::perms::owner_read
                                   | std::filesystem::perms::owner_write);
    auto transport = make_ssh_transport(options_for(silent.port(), dir));
    CHECK_THROWS_MATCHES(
      run_nothing(*transport),
      TransportError,
      Catch::Predicate<TransportError>([](const TransportError& e) { return !e.transient(); }));
  }

  SECTION("no known_hosts file configured")
  {
    make_identity(dir);
    auto options = options_for(silent.port(), dir);
    options.known_hosts_file.clear();
    auto transport = make_ssh_transport(options);
    CHECK_THROWS_WITH(run_nothing(*transport),
                      "no known_hosts file given for 127.0.0.1:" + std::to_string(silent.port()));
  }

  SECTION("empty command")
  {
    auto transport = make_ssh_transport(options_for(silent.port(), dir));
    CHECK_THROWS_AS(transport->run({}, "", [](std::string_view) {}), TransportError);
  }
}

TEST_CASE("ssh transport: an identity file others can access is refused", "[transport]")
{
  test::TempDir dir;
  const auto key = make_identity(dir);
  // Nothing listens: a key that passes fails on the connection instead.
  const LoopbackSocket closed(false);
  const auto outcome = [&](std::filesystem::perms mode) {
    std::filesystem::permissions(key, mode);
    auto transport = make_ssh_transport(options_for(closed.port(), dir));
    try {
      run_nothing(*transport);
    } catch (const TransportError& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  using std::filesystem::perms;
  const auto file = key.string();
  const std::vector<std::pair<perms, std::string>> refused = {
    {perms::owner_read | perms::owner_write | perms::group_read | perms::others_read, "0644"},
    {perms::owner_read | perms::owner_write | perms::group_read, "0640"},
    {perms::owner_read | perms::others_read, "0404"},
    {perms::owner_read | perms::owner_write | perms::group_write, "0620"},
    {perms::owner_all | perms::others_exec, "0701"},
  };
  for (const auto& [mode, octal] : refused) {
    INFO(octal);
    CHECK(outcome(mode)
          == "identity file \"" + file + "\" is accessible by others (mode " + octal
               + "); chmod 600 \"" + file + "\"");
  }
  for (const auto mode :
       {perms::owner_read | perms::owner_write, perms::owner_read, perms::owner_all}) {
    CHECK_THAT(outcome(mode), Catch::Contains("cannot connect"));
  }
}
