#include "../support/temp_dir.hpp"

#include <hlm/util/error.hpp>
#include <hlm/util/process.hpp>
#include <hlm/util/spawn.hpp>

#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace hlm;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

struct Run
{
  ProcessResult result;
  std::string output;
  Clock::duration elapsed;
};

Run
run(const std::vector<std::string>& argv,
    const ProcessOptions& options = {},
    std::string_view input = {})
{
  Run r;
  const auto start = Clock::now();
  r.result = run_process(
    argv,
    input,
    [&](std::string_view chunk) {
      r.output += chunk;
      return true;
    },
    options);
  r.elapsed = Clock::now() - start;
  return r;
}

ProcessOptions
with_timeout(std::chrono::milliseconds timeout, std::chrono::milliseconds grace = 300ms)
{
  ProcessOptions options;
  options.timeout = timeout;
  options.kill_grace = grace;
  return options;
}

// True once `pid` is gone or a zombie (a reaper may be slow to collect it),
// within 10 s.
bool
ended(pid_t pid)
{
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
      return true;
    }
    const auto paren = line.rfind(')');
    if (paren != std::string::npos && line.substr(paren + 2, 1) == "Z") {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

pid_t
read_pid(const std::filesystem::path& file)
{
  std::ifstream in(file);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

std::string
pattern(std::size_t size)
{
  std::string data(size, '\0');
  std::uint32_t x = 54321;
  for (auto& c : data) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  return data;
}

} // namespace

TEST_CASE("run_process reports exit status, stdout and the stderr tail", "[process]")
{
  const auto r = run({"/bin/sh", "-c", "cat; echo oops >&2; exit 4"}, {}, "in\n");
  CHECK(r.output == "in\n");
  CHECK(r.result.exit_status == 4);
  CHECK_FALSE(r.result.signal);
  CHECK_FALSE(r.result.succeeded());
  CHECK_FALSE(r.result.timed_out);
  CHECK(r.result.error_output == "oops\n");

  ProcessOptions small;
  small.error_output_cap = 8;
  const auto tail = run({"/bin/sh", "-c", "echo 0123456789abcdef >&2"}, small);
  CHECK(tail.result.error_output == "9abcdef\n");
  CHECK(tail.result.succeeded());
}

TEST_CASE("run_process reports the signal that ended the program", "[process]")
{
  CHECK(run({"/bin/sh", "-c", "kill -SEGV $$"}).result.signal == "SEGV");
  const auto killed = run({"/bin/sh", "-c", "kill -KILL $$"});
  CHECK(killed.result.signal == "KILL");
  CHECK_FALSE(killed.result.exit_status);
  CHECK_FALSE(killed.result.succeeded());
}

TEST_CASE("run_process fails clearly when the program cannot be started", "[process]")
{
  test::TempDir dir;
  const auto not_executable = dir.write("script", "#!/bin/sh\n");
  CHECK_THROWS_WITH(run({"/nonexistent/prog"}),
                    "cannot run \"/nonexistent/prog\": No such file or directory");
  CHECK_THROWS_WITH(run({not_executable.string()}),
                    "cannot run \"" + not_executable.string() + "\": Permission denied");
  CHECK_THROWS_AS(run({}), TransportError);
}

TEST_CASE("run_process passes extra environment variables", "[process]")
{
  ProcessOptions options;
  options.environment = {{"HLM_TEST_A", "one two"}, {"HOME", "/replaced"}};
  const auto r = run({"/bin/sh", "-c", "echo \"$HLM_TEST_A|$HOME\"; env | grep -c '^HOME='"},
                     options);
  CHECK(r.output == "one two|/replaced\n1\n");
  CHECK(std::getenv("HLM_TEST_A") == nullptr);

  options.environment = {{"A=B", "x"}};
  CHECK_THROWS_AS(run({"true"}, options), TransportError);
}

TEST_CASE("run_process starts the program in its own process group", "[process]")
{
  // Field 5 of /proc/PID/stat is the process group.
  const auto own = run({"/bin/sh", "-c", "echo $$; cut -d' ' -f5 /proc/$$/stat"});
  const auto newline = own.output.find('\n');
  REQUIRE(newline != std::string::npos);
  CHECK(own.output.substr(0, newline + 1) == own.output.substr(newline + 1));

  ProcessOptions shared;
  shared.own_process_group = false;
  const auto same = run({"/bin/sh", "-c", "cut -d' ' -f5 /proc/$$/stat"}, shared);
  CHECK(same.output == std::to_string(::getpgrp()) + "\n");
}

TEST_CASE("run_process ends a program that runs past its timeout", "[process]")
{
  const auto r = run({"sleep", "60"}, with_timeout(500ms));
  CHECK(r.result.timed_out);
  CHECK(r.result.signal == "TERM");
  CHECK_FALSE(r.result.succeeded());
  CHECK(r.elapsed >= 500ms);
  CHECK(r.elapsed < 30s);
}

TEST_CASE("run_process kills a program that ignores SIGTERM after the grace", "[process]")
{
  // The ignored TERM is inherited by sleep too. The timeout leaves the
  // shell ample time to set the trap, even on a loaded machine.
  const auto r = run({"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 60"},
                     with_timeout(3s, 300ms));
  CHECK(r.result.timed_out);
  CHECK(r.result.signal == "KILL");
  CHECK(r.output == "ready\n");
  CHECK(r.elapsed >= 3300ms);
  CHECK(r.elapsed < 30s);
}

TEST_CASE("run_process's timeout also kills what the program started", "[process]")
{
  test::TempDir dir;
  const auto pid_file = dir.path() / "grandchild.pid";
  // The grandchild holds stdout open; the program waits for it.
  // The timeout leaves the shell ample time to write the pid file.
  const auto r = run({"/bin/sh", "-c", "sleep 60 & echo $! > \"$0\"; wait", pid_file.string()},
                     with_timeout(3s));
  CHECK(r.result.timed_out);
  CHECK(r.elapsed < 30s);
  const pid_t grandchild = read_pid(pid_file);
  REQUIRE(grandchild > 0);
  CHECK(ended(grandchild));
}

TEST_CASE("run_process does not wait for leftovers that hold stdout open", "[process]")
{
  test::TempDir dir;
  const auto pid_file = dir.path() / "grandchild.pid";
  // The program exits at once; its background child keeps stdout open.
  ProcessOptions options;
  options.kill_grace = 300ms;
  const auto r = run({"/bin/sh", "-c", "sleep 60 & echo $! > \"$0\"; echo done", pid_file.string()},
                     options);
  CHECK(r.result.exit_status == 0);
  CHECK(r.result.output_held_open);
  CHECK_FALSE(r.result.timed_out);
  CHECK(r.output == "done\n");
  CHECK(r.elapsed < 30s);
  const pid_t grandchild = read_pid(pid_file);
  REQUIRE(grandchild > 0);
  CHECK(ended(grandchild));
}

TEST_CASE("run_process streams large stdin and stdout under a timeout", "[process]")
{
  const std::string input = pattern(16 * 1024 * 1024);
  const auto r = run({"cat"}, with_timeout(60s), input);
  CHECK(r.result.succeeded());
  CHECK_FALSE(r.result.timed_out);
  CHECK(r.output.size() == input.size());
  CHECK(r.output == input);

  // stdout and stderr both far beyond a pipe buffer, input not read.
  const auto both = run(
    {"/bin/sh", "-c", "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2"},
    with_timeout(60s),
    input);
  CHECK(both.result.exit_status == 0);
  CHECK(both.output.size() == 3'000'000);
  CHECK(both.result.error_output.size() == 64 * 1024);
  CHECK(both.result.input_truncated);
}

TEST_CASE("run_process_captured stops a program that writes too much", "[process]")
{
  const auto start = Clock::now();
  const auto endless = run_process_captured({"yes"}, {}, 1000, with_timeout(60s));
  CHECK(endless.output_overflow);
  CHECK(endless.result.stopped);
  CHECK_FALSE(endless.result.succeeded());
  CHECK(endless.output.size() == 1000);
  CHECK(endless.output.substr(0, 4) == "y\ny\n");
  CHECK(Clock::now() - start < 30s);

  const auto fits = run_process_captured({"printf", "12345"}, {}, 5);
  CHECK_FALSE(fits.output_overflow);
  CHECK(fits.result.succeeded());
  CHECK(fits.output == "12345");
}

TEST_CASE("run_process's timeout holds after the program closes its output", "[process]")
{
  // Found in review: the loop ended when the pipes closed, and the wait
  // for the program then had no limit.
  const auto r = run({"/bin/sh", "-c", "echo '{}'; exec >/dev/null 2>&1 </dev/null; sleep 60"},
                     with_timeout(2s));
  CHECK(r.result.timed_out);
  CHECK(r.result.signal == "TERM");
  CHECK(r.output == "{}\n");
  CHECK(r.elapsed >= 2s);
  CHECK(r.elapsed < 30s);

  // Without a timeout the program is waited for, however long it runs on.
  const auto late = run({"/bin/sh", "-c", "exec >/dev/null 2>&1; sleep 0.3; exit 3"});
  CHECK(late.result.exit_status == 3);
  CHECK_FALSE(late.result.timed_out);
}

TEST_CASE("run_process keeps what stderr holds when the output sink stops it", "[process]")
{
  test::TempDir dir;
  const auto marker = dir.path() / "stderr-written";
  // The sink returns only once the reason is on stderr, so that both pipes
  // hold data when the program is killed.
  const auto result = run_process(
    {"/bin/sh", "-c", "printf x; echo 'the reason' >&2; : > \"$0\"; sleep 60", marker.string()},
    {},
    [&](std::string_view) {
      for (int i = 0; i < 1000 && !std::filesystem::exists(marker); ++i) {
        std::this_thread::sleep_for(10ms);
      }
      return false;
    },
    with_timeout(60s));
  CHECK(result.stopped);
  CHECK(result.signal == "KILL");
  CHECK(result.error_output == "the reason\n");
}

namespace {

// Sets the dispositions of `signals` for the test's duration.
class Dispositions
{
public:
  Dispositions(std::vector<int> signals, void (*handler)(int))
    : m_signals(std::move(signals))
  {
    for (const int number : m_signals) {
      struct sigaction action
      {};
      action.sa_handler = handler;
      struct sigaction old
      {};
      ::sigaction(number, &action, &old);
      m_old.push_back(old);
    }
  }
  ~Dispositions()
  {
    for (std::size_t i = 0; i < m_signals.size(); ++i) {
      ::sigaction(m_signals[i], &m_old[i], nullptr);
    }
  }
  Dispositions(const Dispositions&) = delete;
  Dispositions& operator=(const Dispositions&) = delete;

private:
  std::vector<int> m_signals;
  std::vector<struct sigaction> m_old;
};

} // namespace

TEST_CASE("run_process gives the program default signal actions", "[process]")
{
  const std::vector<int> signals = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE};
  const Dispositions ignored(signals, SIG_IGN);

  // The mask of ignored signals, in hex, from /proc.
  const auto r = run({"/bin/sh", "-c", "exec grep '^SigIgn:' /proc/self/status"});
  REQUIRE(r.output.starts_with("SigIgn:"));
  const auto mask = std::stoull(r.output.substr(7), nullptr, 16);
  for (const int number : signals) {
    INFO("signal " << number);
    CHECK((mask & (1ULL << (number - 1))) == 0);
  }

  // So the timeout's SIGTERM ends it at once.
  const auto timed = run({"sleep", "60"}, with_timeout(300ms, 20s));
  CHECK(timed.result.timed_out);
  CHECK(timed.result.signal == "TERM");
  CHECK(timed.elapsed < 30s);
}

TEST_CASE("run_process refuses to start a program it could not wait for", "[process]")
{
  // With SIGCHLD ignored the kernel reaps children itself: the exit status
  // would be lost and the pid free for reuse while still signalled.
  const Dispositions ignored({SIGCHLD}, SIG_IGN);
  CHECK_THROWS_WITH(
    run({"true"}),
    "cannot run \"true\": SIGCHLD is ignored in this process, so its exit could not be waited for");
}

namespace {

// Children get no pidfd while alive, as on a kernel without pidfd_open.
class NoExitFd
{
public:
  NoExitFd()
  {
    spawn::disable_exit_fd_for_testing(true);
  }
  ~NoExitFd()
  {
    spawn::disable_exit_fd_for_testing(false);
  }
  NoExitFd(const NoExitFd&) = delete;
  NoExitFd& operator=(const NoExitFd&) = delete;
};

} // namespace

TEST_CASE("run_process notices the exit without a pidfd", "[process]")
{
  const NoExitFd no_exit_fd;
  const auto plain = run({"/bin/sh", "-c", "cat; exit 5"}, {}, "in\n");
  CHECK(plain.result.exit_status == 5);
  CHECK(plain.output == "in\n");

  const auto closed = run({"/bin/sh", "-c", "exec >/dev/null 2>&1 </dev/null; sleep 60"},
                          with_timeout(500ms));
  CHECK(closed.result.timed_out);
  CHECK(closed.result.signal == "TERM");
  CHECK(closed.elapsed < 30s);

  // The exit, not the pipes, starts the grace for leftovers.
  ProcessOptions options;
  options.kill_grace = 300ms;
  const auto held = run({"/bin/sh", "-c", "sleep 60 & echo done"}, options);
  CHECK(held.result.exit_status == 0);
  CHECK(held.result.output_held_open);
  CHECK(held.output == "done\n");
  CHECK(held.elapsed < 30s);
}

TEST_CASE("run_process outside its own group waits for leftovers until the timeout", "[process]")
{
  // As a shell would, without a timeout; with one, the exited program's
  // leftovers are not killed (they are not in a group of ours) but no
  // longer read.
  ProcessOptions options = with_timeout(3s);
  options.own_process_group = false;
  test::TempDir dir;
  const auto pid_file = dir.path() / "leftover.pid";
  const auto r = run({"/bin/sh", "-c", "sleep 60 & echo $! > \"$0\"; echo done", pid_file.string()},
                     options);
  CHECK(r.result.exit_status == 0);
  CHECK(r.result.output_held_open);
  CHECK_FALSE(r.result.timed_out);
  CHECK(r.output == "done\n");
  CHECK(r.elapsed < 30s);
  const pid_t leftover = read_pid(pid_file);
  REQUIRE(leftover > 0);
  ::kill(leftover, SIGKILL);
}

TEST_CASE("run_process kills the program when the output sink throws", "[process]")
{
  const auto start = Clock::now();
  CHECK_THROWS_WITH(run_process({"/bin/sh", "-c", "echo x; sleep 60"},
                                {},
                                [](std::string_view) -> bool { throw InputError("bad output"); }),
                    "bad output");
  CHECK(Clock::now() - start < 30s);
}

namespace {

// A session that collects the program's stdout.
struct Conversation
{
  std::string output;
  ProcessSession session;

  explicit Conversation(const std::vector<std::string>& argv, const ProcessOptions& options = {})
    : session(
      argv,
      [this](std::string_view chunk) {
        output += chunk;
        return true;
      },
      options)
  {
  }

  bool
  wait_for_text(std::string_view text)
  {
    return session.wait_for([&] { return output.find(text) != std::string::npos; });
  }
};

} // namespace

TEST_CASE("ProcessSession answers one piece of input before the next is sent", "[process]")
{
  Conversation c({"/bin/sh", "-c", "while read -r line; do echo \"got $line\"; done"});
  REQUIRE(c.session.send("one\n"));
  REQUIRE(c.wait_for_text("got one\n"));
  // Nothing more was sent, so nothing more came back.
  CHECK(c.output == "got one\n");
  REQUIRE(c.session.send("two\nthree\n"));
  REQUIRE(c.wait_for_text("got three\n"));
  CHECK(c.output == "got one\ngot two\ngot three\n");
  const auto result = c.session.finish();
  CHECK(result.succeeded());
  CHECK_FALSE(result.input_truncated);
}

TEST_CASE("ProcessSession sends input larger than a pipe while the output flows", "[process]")
{
  Conversation c({"cat"}, with_timeout(60s));
  const std::string input = pattern(8 * 1024 * 1024);
  REQUIRE(c.session.send(input.substr(0, 5'000'000)));
  REQUIRE(c.session.send(input.substr(5'000'000)));
  const auto result = c.session.finish();
  CHECK(result.succeeded());
  CHECK(c.output == input);
}

TEST_CASE("ProcessSession says when the program no longer takes input", "[process]")
{
  Conversation c({"head", "-c", "1"});
  CHECK_FALSE(c.session.send(pattern(4 * 1024 * 1024)));
  // Later input is refused at once.
  CHECK_FALSE(c.session.send("more"));
  CHECK(c.session.send(""));
  const auto result = c.session.finish();
  CHECK(result.exit_status == 0);
  CHECK(result.input_truncated);
  CHECK(c.output.size() == 1);
}

TEST_CASE("ProcessSession's wait_for returns when the program ends first", "[process]")
{
  const auto start = Clock::now();
  Conversation c({"/bin/sh", "-c", "printf partial; echo oops >&2; exit 3"});
  CHECK_FALSE(c.wait_for_text("never"));
  CHECK(c.output == "partial");
  const auto result = c.session.finish();
  CHECK(result.exit_status == 3);
  CHECK(result.error_output == "oops\n");
  // The open stdin is no output held open: no kill_grace, no SIGKILL.
  CHECK_FALSE(result.output_held_open);
  CHECK(Clock::now() - start < 1500ms);
  // Finished: any further call is refused, nothing is signalled or reaped.
  CHECK_THROWS_AS(c.session.send("x"), TransportError);
  CHECK_THROWS_AS(c.session.wait_for([] { return true; }), TransportError);
  CHECK_THROWS_AS(c.session.finish(), TransportError);
}

TEST_CASE("ProcessSession's wait_for with a limit returns when the limit passes", "[process]")
{
  // `cat` answers only what it is sent: nothing, so the wait ends at its
  // limit, and the program is still there to talk to.
  Conversation c({"cat"});
  const auto start = Clock::now();
  CHECK_FALSE(c.session.wait_for([&] { return !c.output.empty(); }, 300ms));
  const auto waited = Clock::now() - start;
  CHECK(waited >= 300ms);
  CHECK(waited < 3s);
  REQUIRE(c.session.send("x"));
  CHECK(c.session.wait_for([&] { return !c.output.empty(); }, 10s));
  CHECK(c.output == "x");
  CHECK(c.session.finish().succeeded());
}

TEST_CASE("ProcessSession's timeout ends a program that stops reading", "[process]")
{
  const auto start = Clock::now();
  Conversation c({"sleep", "30"}, with_timeout(300ms));
  CHECK_FALSE(c.session.send(pattern(4 * 1024 * 1024)));
  const auto result = c.session.finish();
  CHECK(result.timed_out);
  CHECK(result.signal == "TERM");
  CHECK(Clock::now() - start < 10s);
}

TEST_CASE("An unfinished ProcessSession kills its program", "[process]")
{
  pid_t pid = 0;
  const auto start = Clock::now();
  {
    Conversation c({"/bin/sh", "-c", "echo $$; exec sleep 60"});
    REQUIRE(c.wait_for_text("\n"));
    pid = static_cast<pid_t>(std::stol(c.output));
  }
  CHECK(ended(pid));
  CHECK(Clock::now() - start < 30s);
}

TEST_CASE("ProcessSession kills the program when the output sink throws", "[process]")
{
  const auto start = Clock::now();
  ProcessSession session({"/bin/sh", "-c", "read -r line; echo \"$line\"; sleep 60"},
                         [](std::string_view) -> bool { throw InputError("bad answer"); });
  REQUIRE(session.send("x\n"));
  CHECK_THROWS_WITH(session.wait_for([] { return false; }), "bad answer");
  CHECK(Clock::now() - start < 30s);
}
