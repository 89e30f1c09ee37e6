#include <hlm/util/error.hpp>
#include <hlm/util/process.hpp>
#include <hlm/util/strings.hpp>

#include <connectors/common/external_program.hpp>
#include <connectors/exec/exec.hpp>
#include <connectors/exec/protocol.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <set>

namespace hlm::connector::exec {

namespace {

constexpr long long k_default_timeout_s = 3600;
constexpr long long k_max_timeout_s = 366LL * 24 * 3600;
// Parsing a response takes up to about 30 times its size in memory (6 for
// an ordinary one), so the default follows the batch: room for a response
// of about 200 bytes per object, with long names and errors, and then some.
constexpr std::size_t k_default_max_output_base = 1024 * 1024;
constexpr std::size_t k_default_max_output_per_object = 4 * 1024;
constexpr long long k_max_max_output = 1LL << 30;

// Exit statuses of the protocol.
constexpr int k_exit_all_done = 0;
constexpr int k_exit_some_failed = 1;
constexpr int k_exit_nothing_done = 2;

struct ExecConfig
{
  std::vector<std::string> command;
  std::chrono::seconds timeout{k_default_timeout_s};
  // Unset: k_default_max_output_base + k_default_max_output_per_object per
  // object sent.
  std::optional<std::size_t> max_output;
};

class ExecConnector final : public Connector
{
public:
  explicit ExecConnector(ExecConfig config)
    : m_config(std::move(config))
  {
  }

private:
  std::vector<Outcome> apply(Operation operation, std::span<const Item> items) override;
  std::optional<Estimate> plan(Operation operation, std::span<const Item> items) override;
  std::vector<Outcome> judge(const CapturedProcess& run,
                             std::span<const Item> items,
                             const std::set<std::string, std::less<>>& files,
                             std::size_t max_output) const;

  // "exec connector: /usr/lib/x/backend: <cause>"
  std::string
  failure(std::string_view cause) const
  {
    return fmt::format("exec connector: {}: {}", printable(m_config.command.front()), cause);
  }

  // Appends the last line of the program's stderr, where it has one.
  static std::string
  with_stderr(std::string message, std::string_view error_output)
  {
    if (const auto line = external::last_line(error_output); !line.empty()) {
      message += fmt::format(" (stderr: {})", line);
    }
    return message;
  }

  // Says on stderr, in one line, why the program gave no estimate:
  // estimate() has no way to carry a reason, and an operator comparing
  // estimates needs to tell a program that cannot from one that failed.
  void
  no_estimate(std::string_view cause) const
  {
    std::fputs(fmt::format("warning: {}\n", failure(fmt::format("no estimate: {}", cause))).c_str(),
               stderr);
  }

  ExecConfig m_config;
};

std::vector<Outcome>
ExecConnector::apply(Operation operation, std::span<const Item> items)
{
  std::vector<Outcome> outcomes(items.size());
  // JSON carries only UTF-8: other names fail alone. Each file goes once.
  std::vector<Item> sent;
  std::set<std::string, std::less<>> files;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!is_valid_utf8(items[i].file) || !is_valid_utf8(items[i].object)) {
      outcomes[i] = Outcome::failed(
        failure("the object name or file path is not valid UTF-8, which JSON cannot carry"),
        FailureKind::rejected);
    } else if (files.insert(items[i].file).second) {
      sent.push_back(items[i]);
    }
  }
  if (sent.empty()) {
    return outcomes;
  }

  ProcessOptions options;
  options.timeout = m_config.timeout;
  options.environment = {{"HLM_CONNECTOR_VERSION", std::to_string(k_protocol_version)}};
  const std::size_t max_output = m_config.max_output.value_or(
    k_default_max_output_base + k_default_max_output_per_object * sent.size());
  CapturedProcess run;
  std::optional<std::string> cannot_run;
  try {
    run = run_process_captured(m_config.command,
                               encode_request(operation, sent) + "\n",
                               max_output,
                               options);
  } catch (const TransportError& e) {
    cannot_run = fmt::format("exec connector: {}", e.what());
  }

  std::vector<Outcome> judged;
  if (cannot_run) {
    judged.assign(items.size(), Outcome::failed(*cannot_run));
  } else {
    judged = judge(run, items, files, max_output);
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (outcomes[i].ok()) {
      outcomes[i] = std::move(judged[i]);
    }
  }
  return outcomes;
}

std::optional<Estimate>
ExecConnector::plan(Operation operation, std::span<const Item> items)
{
  // The items apply() would send: each file once, names JSON can carry.
  std::vector<Item> sent;
  std::set<std::string, std::less<>> files;
  for (const auto& item : items) {
    if (is_valid_utf8(item.file) && is_valid_utf8(item.object) && files.insert(item.file).second) {
      sent.push_back(item);
    }
  }
  ProcessOptions options;
  options.timeout = m_config.timeout;
  options.environment = {{"HLM_CONNECTOR_VERSION", std::to_string(k_estimate_version)}};
  // An answer is a few hundred bytes whatever the batch.
  const std::size_t max_output = m_config.max_output.value_or(k_default_max_output_base);
  // Whatever goes wrong, the estimate is only unknown: a dry run or an
  // estimate goes on, and nothing a real run does depends on it.
  try {
    const auto run = run_process_captured(m_config.command,
                                          encode_estimate_request(operation, sent) + "\n",
                                          max_output,
                                          options);
    const auto& result = run.result;
    if (run.output_overflow) {
      no_estimate(
        with_stderr(fmt::format("wrote more than {} bytes on stdout (max_output)", max_output),
                    result.error_output));
      return std::nullopt;
    }
    // Exit status 2 is also how a program of version 1 refuses the request.
    if (!result.succeeded()) {
      no_estimate(
        with_stderr(external::describe_end(result, m_config.timeout), result.error_output));
      return std::nullopt;
    }
    try {
      return decode_estimate(run.output, sent.size());
    } catch (const InputError& e) {
      no_estimate(with_stderr(e.what(), result.error_output));
      return std::nullopt;
    }
  } catch (const std::exception& e) {
    no_estimate(e.what());
    return std::nullopt;
  }
}

// One outcome per item from the run: the program's answers, or its
// failure for every item.
std::vector<Outcome>
ExecConnector::judge(const CapturedProcess& run,
                     std::span<const Item> items,
                     const std::set<std::string, std::less<>>& files,
                     std::size_t max_output) const
{
  const auto& result = run.result;
  const auto all = [&](const std::string& error) {
    return std::vector<Outcome>(items.size(), Outcome::failed(error));
  };
  if (run.output_overflow) {
    return all(
      with_stderr(failure(fmt::format("wrote more than {} bytes on stdout (max_output){}",
                                      max_output,
                                      result.abandoned ? " and did not exit after SIGKILL" : "")),
                  result.error_output));
  }
  if (result.timed_out || !result.exit_status) {
    return all(
      with_stderr(failure(external::describe_end(result, m_config.timeout)), result.error_output));
  }
  const int status = *result.exit_status;
  if (status != k_exit_all_done && status != k_exit_some_failed && status != k_exit_nothing_done) {
    return all(
      with_stderr(failure(external::describe_end(result, m_config.timeout)), result.error_output));
  }

  Answers answers;
  if (status == k_exit_nothing_done) {
    // The response is optional here; its states are used when it is valid.
    try {
      answers = decode_response(run.output, files);
    } catch (const std::exception&) {
      // No usable response: the states stay unknown.
    }
    auto reason = external::last_line(result.error_output);
    const auto cause = failure(fmt::format("could do nothing (exit status 2): {}",
                                           reason.empty() ? "no reason given on stderr" : reason));
    std::vector<Outcome> outcomes;
    for (const auto& item : items) {
      const auto answer = answers.find(item.file);
      outcomes.push_back({answer == answers.end() ? ObjectState::unknown : answer->second.state,
                          make_failure(FailureKind::backend, cause)});
    }
    return outcomes;
  }

  try {
    answers = decode_response(run.output, files);
  } catch (const InputError& e) {
    return all(with_stderr(failure(fmt::format("{} (exit status {})", e.what(), status)),
                           result.error_output));
  } catch (const std::exception& e) {
    // Whatever else decoding throws (memory) fails this batch only.
    return all(with_stderr(
      failure(fmt::format("cannot decode the response: {} (exit status {})", e.what(), status)),
      result.error_output));
  }
  std::vector<Outcome> outcomes;
  outcomes.reserve(items.size());
  for (const auto& item : items) {
    const auto answer = answers.find(item.file);
    if (answer == answers.end()) {
      outcomes.push_back(Outcome::failed(failure("the response has no entry for this file")));
    } else if (answer->second.error) {
      outcomes.push_back(
        {answer->second.state, make_failure(FailureKind::backend, failure(*answer->second.error))});
    } else {
      outcomes.push_back({answer->second.state, std::nullopt});
    }
  }
  return outcomes;
}

} // namespace

std::unique_ptr<Connector>
create(Settings& settings)
{
  ExecConfig config;
  config.command = external::split_words(settings.require("command", "the program to run"));
  if (config.command.empty()) {
    throw ConfigError(fmt::format("empty \"command\" in {}", settings.origin()));
  }
  config.timeout = std::chrono::seconds(
    settings.count("timeout", k_default_timeout_s, k_max_timeout_s));
  if (const auto max_output = settings.count("max_output", 0, k_max_max_output); max_output > 0) {
    config.max_output = static_cast<std::size_t>(max_output);
  }
  return std::make_unique<ExecConnector>(std::move(config));
}

} // namespace hlm::connector::exec
