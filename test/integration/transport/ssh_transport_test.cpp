// Integration test of the ssh transport against a real OpenSSH server on
// loopback, started and stopped here with test/sshd/sshd.py.
//
//   ssh_transport_test --python PYTHON --harness SSHD_PY --dir DIR
//
// Exit status: 0 all checks passed, 1 a check failed, 125 the OpenSSH
// binaries are missing and CI is not set (sshd.py decides).

#include <hlm/transport/transport.hpp>
#include <hlm/util/error.hpp>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace hlm;
using namespace hlm::transport;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

int g_failures = 0;

void
check(bool condition, const std::string& what)
{
  if (!condition) {
    ++g_failures;
    std::cout << "FAIL: " << what << '\n';
  }
}

double
ms_since(Clock::time_point start)
{
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string
pattern(std::size_t size)
{
  std::string data(size, '\0');
  std::uint32_t x = 4711;
  for (auto& c : data) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return data;
}

struct Captured
{
  RunResult result;
  std::string output;
};

Captured
run(Transport& transport,
    const std::vector<std::string>& argv,
    std::string_view input = {},
    const std::function<void(std::string_view)>& also = {})
{
  Captured captured;
  captured.result = transport.run(argv, input, [&](std::string_view chunk) {
    captured.output += chunk;
    if (also) {
      also(chunk);
    }
  });
  return captured;
}

// Runs `body`, which must throw a TransportError; returns it (or nullopt,
// counting a failure).
std::optional<TransportError>
expect_error(const std::string& name, const std::function<void()>& body)
{
  try {
    body();
  } catch (const TransportError& e) {
    return e;
  } catch (const std::exception& e) {
    check(false, name + ": wrong exception type: " + e.what());
    return std::nullopt;
  }
  check(false, name + ": no exception");
  return std::nullopt;
}

bool
contains(std::string_view text, std::string_view part)
{
  return text.find(part) != std::string_view::npos;
}

// The sshd harness, stopped again on destruction.
class Harness
{
public:
  Harness(std::string python, std::string script, std::string dir)
    : m_python(std::move(python)),
      m_script(std::move(script)),
      m_dir(std::move(dir))
  {
  }
  ~Harness()
  {
    if (m_started) {
      call("stop");
    }
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Returns sshd.py's exit status.
  int
  start()
  {
    call("stop"); // a leftover from a crashed earlier run
    const auto result = call("start");
    m_started = result.exit_status == 0;
    if (!m_started) {
      std::cout << result.error_output;
      return result.exit_status.value_or(1);
    }
    std::ifstream in(m_dir + "/sshd.json");
    m_info = nlohmann::json::parse(in);
    return 0;
  }

  const nlohmann::json&
  info() const
  {
    return m_info;
  }

  SshOptions
  options() const
  {
    SshOptions options;
    options.host = m_info.at("host").get<std::string>();
    options.port = m_info.at("port").get<int>();
    options.user = m_info.at("user").get<std::string>();
    options.identity_file = m_info.at("identity_file").get<std::string>();
    options.known_hosts_file = m_info.at("known_hosts").get<std::string>();
    options.connect_timeout = 2s;
    options.io_timeout = 10s;
    return options;
  }

  // Every process below the sshd listener: the per-connection sshd
  // processes and the commands they run.
  std::vector<pid_t>
  session_processes() const
  {
    std::map<pid_t, std::vector<pid_t>> children;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const auto name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      std::ifstream stat(entry.path() / "stat");
      std::string line;
      if (!std::getline(stat, line)) {
        continue;
      }
      // pid (comm) state ppid ...; comm may hold spaces and parentheses.
      const auto close = line.rfind(')');
      if (close == std::string::npos) {
        continue;
      }
      std::istringstream rest(line.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      children[ppid].push_back(static_cast<pid_t>(std::stol(name)));
    }
    std::vector<pid_t> found;
    std::vector<pid_t> todo = {m_info.at("pid").get<pid_t>()};
    while (!todo.empty()) {
      const pid_t pid = todo.back();
      todo.pop_back();
      for (const pid_t child : children[pid]) {
        found.push_back(child);
        todo.push_back(child);
      }
    }
    return found;
  }

private:
  RunResult
  call(const std::string& command)
  {
    auto local = make_local_transport();
    return local->run({m_python, m_script, command, "--dir", m_dir}, "", [](std::string_view out) {
      std::cout << out;
    });
  }

  std::string m_python;
  std::string m_script;
  std::string m_dir;
  bool m_started = false;
  nlohmann::json m_info;
};

// A loopback listener that completes TCP handshakes but never speaks.
class SilentListener
{
public:
  SilentListener()
    : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
  {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0
        || ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0
        || ::listen(m_fd, 16) != 0) {
      throw std::runtime_error("cannot set up a loopback listener");
    }
    m_port = ntohs(address.sin_port);
  }
  ~SilentListener()
  {
    ::close(m_fd);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int
  port() const
  {
    return m_port;
  }

private:
  int m_fd;
  int m_port = 0;
};

int
free_port()
{
  const SilentListener bound;
  return bound.port(); // closed on return: nothing listens there
}

constexpr double k_untimed = -1;

void
report(const std::string& name, double ms, const std::string& detail = {})
{
  if (ms == k_untimed) {
    std::printf("  %-52s %12s  %s\n", name.c_str(), "", detail.c_str());
  } else {
    std::printf("  %-52s %9.1f ms  %s\n", name.c_str(), ms, detail.c_str());
  }
  std::fflush(stdout);
}

// ---- the checks ------------------------------------------------------------

void
test_latency(const Harness& harness)
{
  auto transport = make_ssh_transport(harness.options());
  auto start = Clock::now();
  const auto first = run(*transport, {"true"});
  report("first run (connect, kex, auth, channel, exec)", ms_since(start));
  check(first.result.exit_status == 0, "first run: true exits 0");

  constexpr int k_runs = 20;
  start = Clock::now();
  for (int i = 0; i < k_runs; ++i) {
    const auto again = run(*transport, {"true"});
    check(again.result.exit_status == 0, "warm run: true exits 0");
  }
  report("warm run on the reused session (mean of 20)", ms_since(start) / k_runs);

  start = Clock::now();
  auto fresh = make_ssh_transport(harness.options());
  check(run(*fresh, {"echo", "hi"}).output == "hi\n", "echo over a fresh transport");
  report("fresh transport running echo", ms_since(start));
}

void
test_cat_20mb(const Harness& harness)
{
  auto transport = make_ssh_transport(harness.options());
  run(*transport, {"true"}); // connect outside the measurement
  const std::string input = pattern(20 * 1024 * 1024);
  std::size_t chunks = 0;
  const auto start = Clock::now();
  const auto captured = run(*transport, {"cat"}, input, [&](std::string_view) { ++chunks; });
  const double ms = ms_since(start);
  report("cat 20 MiB in and out",
         ms,
         std::to_string(static_cast<int>(20.0 / (ms / 1000.0))) + " MiB/s, "
           + std::to_string(chunks) + " chunks");
  check(captured.result.exit_status == 0, "cat 20 MiB: exit 0");
  check(captured.output.size() == input.size(),
        "cat 20 MiB: size " + std::to_string(captured.output.size()));
  check(captured.output == input, "cat 20 MiB: bytes equal");
  check(!captured.result.input_truncated, "cat 20 MiB: input complete");
}

void
test_status_and_stderr(const Harness& harness)
{
  auto transport = make_ssh_transport(harness.options());
  const auto start = Clock::now();
  const auto captured = run(*transport, {"sh", "-c", "echo err >&2; exit 7"});
  report("sh -c 'echo err >&2; exit 7'", ms_since(start));
  check(captured.result.exit_status == 7, "exit 7");
  check(!captured.result.signal, "no signal");
  check(captured.result.error_output == "err\n",
        "stderr is err, got \"" + captured.result.error_output + "\"");
  check(captured.output.empty(), "no stdout");

  // dash (the test user's shell) reports a killed child as 137; a shell
  // that execs the command gives exit-signal KILL: both are fine.
  const auto killed = run(*transport, {"sh", "-c", "kill -KILL $$"});
  check(killed.result.signal == std::optional<std::string>("KILL")
          || killed.result.exit_status == 137,
        "killed: signal KILL or exit 137");
  report("sh -c 'kill -KILL $$'",
         k_untimed,
         killed.result.signal ? "exit-signal " + *killed.result.signal
                              : "exit status " + std::to_string(*killed.result.exit_status));

  // Large stdout and stderr at once: neither may stall the other.
  const auto both = run(*transport,
                        {"sh",
                         "-c",
                         "head -c 3000000 /dev/zero >&2; head -c 3000000 /dev/zero; "
                         "echo tail >&2"});
  check(both.result.exit_status == 0, "3 MB stdout + 3 MB stderr: exit 0");
  check(both.output.size() == 3'000'000, "3 MB stdout + 3 MB stderr: stdout size");
  check(both.result.error_output.size() == 64 * 1024,
        "stderr capped at 64 KiB, got " + std::to_string(both.result.error_output.size()));
  check(both.result.error_output.ends_with("tail\n"), "stderr keeps its tail");

  // A program that exits without reading its 20 MB of input.
  const auto early = run(*transport,
                         {"sh", "-c", "head -c 10 >/dev/null; exit 3"},
                         pattern(20 * 1024 * 1024));
  check(early.result.exit_status == 3, "early exit: status 3");
  report("exit 3 without reading 20 MiB input",
         k_untimed,
         early.result.input_truncated ? "input_truncated" : "input complete");

  // The session is still fine after all that.
  check(run(*transport, {"echo", "ok"}).output == "ok\n", "session reusable afterwards");
}

void
test_hostile_argv(const Harness& harness)
{
  const std::vector<std::string> args = {
    "plain",
    "",
    "two  spaces",
    "it's",
    "\"double\"",
    "$HOME ${PATH} $(id) `id`",
    "back\\slash\\",
    "new\nline",
    "tab\there",
    "semi; echo pwned & | > < * ? [a] ~ # !",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xbc",
    "-n",
    "'; echo pwned; '",
    "%s %d \\n",
  };
  std::vector<std::string> argv = {"printf", "%s\\n"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string expected;
  for (const auto& arg : args) {
    expected += arg + "\n";
  }
  auto transport = make_ssh_transport(harness.options());
  const auto captured = run(*transport, argv);
  check(captured.result.exit_status == 0, "printf hostile args: exit 0");
  check(captured.output == expected,
        "printf hostile args: echoed exactly, got:\n" + captured.output);
}

void
test_host_key_and_auth(const Harness& harness)
{
  const std::string peer = harness.info().at("host").get<std::string>() + ":"
                           + std::to_string(harness.info().at("port").get<int>());
  {
    auto options = harness.options();
    options.known_hosts_file = harness.info().at("wrong_known_hosts").get<std::string>();
    auto transport = make_ssh_transport(options);
    const auto start = Clock::now();
    const auto error = expect_error("wrong known_hosts", [&] { run(*transport, {"true"}); });
    report("wrong known_hosts refused", ms_since(start), error ? error->what() : "");
    check(error && !error->transient(), "wrong known_hosts: not transient");
    check(error && contains(error->what(), "host key for " + peer + " does not match known_hosts"),
          "wrong known_hosts: message");
  }
  {
    auto options = harness.options();
    const auto empty =
      std::filesystem::path(harness.info().at("config").get<std::string>()).parent_path()
      / "empty_known_hosts";
    std::ofstream(empty).close();
    options.known_hosts_file = empty;
    auto transport = make_ssh_transport(options);
    const auto error = expect_error("unknown host", [&] { run(*transport, {"true"}); });
    report("host missing from known_hosts", k_untimed, error ? error->what() : "");
    check(error && !error->transient(), "unknown host: not transient");
    check(error && contains(error->what(), "host " + peer + " is not in known_hosts"),
          "unknown host: message");
  }
  {
    auto options = harness.options();
    options.identity_file = harness.info().at("unauthorized_identity_file").get<std::string>();
    auto transport = make_ssh_transport(options);
    const auto error = expect_error("unauthorized key", [&] { run(*transport, {"true"}); });
    report("unauthorized identity", k_untimed, error ? error->what() : "");
    check(error && !error->transient(), "unauthorized key: not transient");
    check(error && contains(error->what(), "was denied"), "unauthorized key: message");
  }
}

void
test_unreachable(const Harness& harness)
{
  {
    auto options = harness.options();
    options.port = free_port();
    auto transport = make_ssh_transport(options);
    const auto start = Clock::now();
    const auto error = expect_error("closed port", [&] { run(*transport, {"true"}); });
    const double ms = ms_since(start);
    report("closed port", ms, error ? error->what() : "");
    check(error && error->transient(), "closed port: transient");
    check(ms < 2000, "closed port: fails within the connect timeout");
  }
  {
    const SilentListener silent;
    auto options = harness.options();
    options.port = silent.port();
    options.connect_timeout = 1500ms;
    auto transport = make_ssh_transport(options);
    const auto start = Clock::now();
    const auto error = expect_error("silent peer", [&] { run(*transport, {"true"}); });
    const double ms = ms_since(start);
    report("peer that accepts and never speaks (timeout 1.5 s)", ms, error ? error->what() : "");
    check(error && error->transient(), "silent peer: transient");
    check(ms >= 1400 && ms < 3000, "silent peer: fails after about the connect timeout");
  }
}

void
test_idle_and_frozen(Harness& harness)
{
  {
    auto options = harness.options();
    options.io_timeout = 1s;
    auto transport = make_ssh_transport(options);
    run(*transport, {"true"});
    const auto start = Clock::now();
    const auto error = expect_error("idle", [&] { run(*transport, {"sleep", "5"}); });
    const double ms = ms_since(start);
    report("remote sleep 5 with io_timeout 1 s", ms, error ? error->what() : "");
    check(error && error->transient(), "idle: transient");
    check(ms >= 950 && ms < 2500, "idle: fails after about io_timeout");
    check(run(*transport, {"echo", "back"}).output == "back\n", "idle: next run reconnects");
  }
  {
    // Freeze the server side (SIGSTOP) in the middle of a transfer: the
    // kernel still ACKs, so only the idle timer notices.
    auto options = harness.options();
    options.io_timeout = 1s;
    auto transport = make_ssh_transport(options);
    std::vector<pid_t> stopped;
    const auto start = Clock::now();
    const auto error = expect_error("frozen", [&] {
      run(*transport, {"cat"}, pattern(20 * 1024 * 1024), [&](std::string_view) {
        if (stopped.empty()) {
          stopped = harness.session_processes();
          for (const pid_t pid : stopped) {
            ::kill(pid, SIGSTOP);
          }
        }
      });
    });
    const double ms = ms_since(start);
    for (const pid_t pid : stopped) {
      ::kill(pid, SIGKILL);
    }
    report("server frozen mid-transfer, io_timeout 1 s",
           ms,
           (error ? std::string(error->what()) : std::string()) + " ("
             + std::to_string(stopped.size()) + " processes stopped)");
    check(!stopped.empty(), "frozen: found the session processes");
    check(error && error->transient(), "frozen: transient");
    check(ms < 3000, "frozen: fails after about io_timeout");
  }
  {
    // The server side of an idle reused session dies between runs: the
    // next run opens a fresh connection by itself.
    auto transport = make_ssh_transport(harness.options());
    check(run(*transport, {"echo", "1"}).output == "1\n", "reconnect: first run");
    const auto sessions = harness.session_processes();
    for (const pid_t pid : sessions) {
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(100ms);
    const auto start = Clock::now();
    const auto captured = run(*transport, {"echo", "2"});
    report("run after the server killed the idle session", ms_since(start));
    check(!sessions.empty(), "reconnect: found the session processes");
    check(captured.output == "2\n", "reconnect: second run works");
  }
}

void
test_conversation(const Harness& harness)
{
  auto options = harness.options();
  options.io_timeout = 1s;
  auto transport = make_ssh_transport(options);
  std::string output;
  const auto has = [&](std::string_view text) {
    return [&output, text] { return contains(output, text); };
  };
  {
    auto channel = transport->start({"sh", "-c", "while read -r line; do echo \"got $line\"; done"},
                                    [&](std::string_view chunk) { output += chunk; });
    const auto start = Clock::now();
    check(channel->send("one\n"), "conversation: first send");
    check(channel->wait_for(has("got one\n")), "conversation: first answer");
    report("one line there and back on an open channel", ms_since(start));
    check(output == "got one\n", "conversation: nothing answered before it was sent");
    // Idle between the calls for longer than io_timeout: only a call that
    // waits counts.
    std::this_thread::sleep_for(1500ms);
    check(channel->send("two\nthree\n"), "conversation: second send");
    check(channel->wait_for(has("got three\n")), "conversation: second answer");
    const auto result = channel->finish();
    check(result.exit_status == 0, "conversation: exit 0 after EOF");
    check(output == "got one\ngot two\ngot three\n", "conversation: output " + output);
  }
  {
    output.clear();
    auto channel = transport->start({"head", "-c", "1"},
                                    [&](std::string_view chunk) { output += chunk; });
    check(!channel->send(pattern(4 * 1024 * 1024)), "early exit: send says the input was cut");
    const auto result = channel->finish();
    check(result.exit_status == 0 && result.input_truncated, "early exit: exit 0, truncated");
    check(output.size() == 1, "early exit: one byte of output");
  }
  {
    auto channel = transport->start({"sleep", "5"}, [](std::string_view) {});
    const auto start = Clock::now();
    const auto error = expect_error("waiting idle",
                                    [&] { channel->wait_for([] { return false; }); });
    const double ms = ms_since(start);
    check(error && error->transient() && ms >= 950 && ms < 2500,
          "waiting idle: fails transiently after about io_timeout");
  }
  {
    // An unfinished channel is dropped; the transport goes on.
    auto channel = transport->start({"cat"}, [](std::string_view) {});
    channel->send("unfinished");
  }
  check(run(*transport, {"echo", "after"}).output == "after\n",
        "a run after an abandoned channel works");
}

void
test_parallel(const Harness& harness)
{
  constexpr int k_threads = 16;
  constexpr int k_runs = 3;
  const std::string input = pattern(2 * 1024 * 1024);
  std::atomic<int> good{0};
  std::vector<std::string> errors(k_threads);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto transport = make_ssh_transport(harness.options());
        for (int i = 0; i < k_runs; ++i) {
          const auto captured = run(*transport, {"cat"}, input);
          if (captured.result.exit_status == 0 && captured.output == input) {
            ++good;
          }
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(t)] = e.what();
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  report("16 threads x 3 runs of cat 2 MiB, own transports", ms_since(start));
  for (const auto& error : errors) {
    check(error.empty(), "parallel: " + error);
  }
  check(good == k_threads * k_runs, "parallel: all outputs equal");
}

} // namespace

int
main(int argc, char** argv)
{
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) {
    args[argv[i]] = argv[i + 1];
  }
  if (!args.count("--python") || !args.count("--harness") || !args.count("--dir")) {
    std::cerr << "usage: ssh_transport_test --python PYTHON --harness SSHD_PY --dir DIR\n";
    return 2;
  }
  try {
    global_init();
    Harness harness(args["--python"], args["--harness"], args["--dir"]);
    const auto start = Clock::now();
    if (const int status = harness.start(); status != 0) {
      // 125 (skip) only comes from sshd.py, and only when CI is not set.
      return status == 125 ? 125 : 1;
    }
    report("sshd harness start", ms_since(start));

    test_latency(harness);
    test_cat_20mb(harness);
    test_status_and_stderr(harness);
    test_hostile_argv(harness);
    test_host_key_and_auth(harness);
    test_unreachable(harness);
    test_idle_and_frozen(harness);
    test_parallel(harness);
    test_conversation(harness);
  } catch (const std::exception& e) {
    std::cout << "FAIL: unexpected exception: " << e.what() << '\n';
    return 1;
  }
  if (g_failures != 0) {
    std::cout << g_failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "all ssh transport checks passed\n";
  return 0;
}
