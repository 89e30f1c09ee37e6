#include <hlm/util/error.hpp>
#include <hlm/util/process.hpp>
#include <hlm/util/strings.hpp>

#include <connectors/common/external_program.hpp>
#include <connectors/ltfsdm/file_list.hpp>
#include <connectors/ltfsdm/info_files.hpp>
#include <connectors/ltfsdm/ltfsdm.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <variant>

namespace hlm::connector::ltfsdm {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_default_ltfsdm_path = "/usr/local/bin/ltfsdm";
constexpr std::string_view k_default_tmp_dir = "/tmp/hlm-ltfsdm";
constexpr long long k_default_timeout_s = 3600;
constexpr long long k_max_timeout_s = 366LL * 24 * 3600;
// ltfsdm migrate -P: "a file can be migrated up to three different tape
// storage pools in parallel".
constexpr std::size_t k_max_pools = 3;
// ltfsdm prints progress every 10 s and one line per file for info files.
constexpr std::size_t k_max_output = 256 * 1024 * 1024;
// Error and warning messages of ltfsdm quoted in an object's error.
constexpr std::size_t k_quoted_messages = 3;

enum class MigrateMode { migrate, premigrate };
enum class RecallMode { premigrated, resident };

struct LtfsdmConfig
{
  std::string ltfsdm_path;
  std::string pools; // "pool1,pool2"
  fs::path tmp_dir;
  MigrateMode migrate_mode = MigrateMode::migrate;
  RecallMode recall_mode = RecallMode::premigrated;
  std::chrono::seconds timeout{k_default_timeout_s};
};

std::string
failure(std::string_view cause)
{
  return fmt::format("ltfsdm connector: {}", cause);
}

// One ltfsdm run: what it printed and how it ended, or why it could not
// start.
struct Run
{
  std::string command; // "ltfsdm migrate", for messages
  CapturedProcess captured;
  std::optional<std::string> cannot_run;
};

// The last line of `output` that is not part of an `info files` listing
// (another file's state says nothing about this one), made printable.
std::string
last_message_line(std::string_view output)
{
  while (!output.empty()) {
    const auto newline = output.find_last_of("\r\n");
    const auto line = newline == std::string_view::npos ? output : output.substr(newline + 1);
    if (!trim(line).empty() && !is_listing_line(line)) {
      return external::last_line(line);
    }
    if (newline == std::string_view::npos) {
      break;
    }
    output = output.substr(0, newline);
  }
  return {};
}

// ltfsdm's own words about a failure: its error and warning messages
// ("LTFSDMC0026E(0172): Unable to connect ...", all on stdout), else the
// last line of stderr, else, for a run that failed, the last line of
// stdout that is not part of a listing.
std::string
diagnostics(const CapturedProcess& captured)
{
  std::vector<std::string> messages;
  std::size_t start = 0;
  const std::string_view output = captured.output;
  while (start < output.size() && messages.size() < k_quoted_messages) {
    auto end = output.find_first_of("\r\n", start);
    if (end == std::string_view::npos) {
      end = output.size();
    }
    const auto line = trim(output.substr(start, end - start));
    start = end + 1;
    // "LTFSDMC0026E(0172): ..." or "LTFSDMS0064E(0223): ...".
    if (line.size() > 13 && line.starts_with("LTFSDM") && (line[11] == 'E' || line[11] == 'W')
        && line[12] == '(') {
      messages.push_back(external::last_line(line));
    }
  }
  if (!messages.empty()) {
    return fmt::format("{}", fmt::join(messages, " / "));
  }
  if (auto line = external::last_line(captured.result.error_output); !line.empty()) {
    return line;
  }
  if (captured.result.succeeded() && !captured.output_overflow) {
    return {};
  }
  return last_message_line(captured.output);
}

// " (exited with status 2: LTFSDMC...)" or, for a run that exited 0 but
// said something, " (LTFSDMC...)"; empty for a clean run.
std::string
explain(const Run& run, std::chrono::seconds timeout)
{
  if (run.cannot_run) {
    return fmt::format(" ({})", *run.cannot_run);
  }
  const auto said = diagnostics(run.captured);
  std::string how;
  if (run.captured.output_overflow) {
    how = fmt::format("{} wrote more than {} bytes{}",
                      run.command,
                      k_max_output,
                      run.captured.result.abandoned ? " and did not exit after SIGKILL" : "");
  } else if (!run.captured.result.succeeded()) {
    how = fmt::format("{} {}", run.command, external::describe_end(run.captured.result, timeout));
  }
  if (how.empty() && said.empty()) {
    return {};
  }
  if (how.empty()) {
    return fmt::format(" ({} said: {})", run.command, said);
  }
  return said.empty() ? fmt::format(" ({})", how) : fmt::format(" ({}: {})", how, said);
}

struct FileGroups;

class LtfsdmConnector final : public Connector
{
public:
  explicit LtfsdmConnector(LtfsdmConfig config)
    : m_config(std::move(config))
  {
  }

private:
  std::vector<Outcome> apply(Operation operation, std::span<const Item> items) override;
  Run run(std::string command, std::vector<std::string> arguments) const;
  // Runs ltfsdm migrate or recall over the file list; nothing for status.
  std::optional<Run> change_states(Operation operation, const std::string& list_path) const;
  // Each group's outcome from `ltfsdm info files` (`query`) and the change
  // run before it.
  void settle_from_listing(Operation operation,
                           const FileGroups& groups,
                           const std::optional<Run>& change,
                           const Run& query,
                           std::vector<Outcome>& outcomes) const;
  bool reached(Operation operation, ObjectState state) const;

  LtfsdmConfig m_config;
};

Run
LtfsdmConnector::run(std::string command, std::vector<std::string> arguments) const
{
  Run result;
  result.command = std::move(command);
  arguments.insert(arguments.begin(), m_config.ltfsdm_path);
  ProcessOptions options;
  options.timeout = m_config.timeout;
  try {
    result.captured = run_process_captured(arguments, {}, k_max_output, options);
  } catch (const TransportError& e) {
    result.cannot_run = e.what();
  }
  return result;
}

bool
LtfsdmConnector::reached(Operation operation, ObjectState state) const
{
  switch (operation) {
  case Operation::migrate:
    return state == ObjectState::migrated
           || (m_config.migrate_mode == MigrateMode::premigrate
               && state == ObjectState::premigrated);
  case Operation::recall:
    return state == ObjectState::resident
           || (m_config.recall_mode == RecallMode::premigrated
               && state == ObjectState::premigrated);
  case Operation::status:
    break;
  }
  return true;
}

// The items by the canonical name ltfsdm prints, each file listed once, by
// the first path naming it (a link and its target are one file).
struct FileGroups
{
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_name;
  std::vector<std::string> listed;
};

// The canonical name of `file` for grouping, or the failure that keeps it
// out of the file list.
std::variant<std::string, Outcome>
canonical_name(const std::string& file)
{
  if (file.find('\n') != std::string::npos) {
    return Outcome::failed(
      failure("the file path contains a newline, which an ltfsdm file list cannot hold"),
      FailureKind::rejected);
  }
  std::error_code ec;
  auto canonical = fs::canonical(file, ec).string();
  if (ec) {
    return Outcome::failed(
      failure(fmt::format("cannot resolve \"{}\": {}", printable(file), ec.message())),
      ec == std::errc::no_such_file_or_directory ? FailureKind::missing : FailureKind::backend);
  }
  // ltfsdm prints the canonical name, which a newline would split into
  // lines that could pass for other files' states.
  if (canonical.find('\n') != std::string::npos) {
    return Outcome::failed(
      failure(fmt::format(
        "the file's real path \"{}\" contains a newline, which ltfsdm's output cannot carry",
        printable(canonical))),
      FailureKind::rejected);
  }
  return canonical;
}

// Groups the items by canonical name; an item that cannot be listed gets
// its failure in `outcomes` and no group.
FileGroups
group_files(std::span<const Item> items, std::vector<Outcome>& outcomes)
{
  FileGroups groups;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto name = canonical_name(items[i].file);
    if (auto* rejected = std::get_if<Outcome>(&name)) {
      outcomes[i] = std::move(*rejected);
      continue;
    }
    auto& indexes = groups.by_name[std::get<std::string>(name)];
    if (indexes.empty()) {
      groups.listed.push_back(items[i].file);
    }
    indexes.push_back(i);
  }
  return groups;
}

// Gives every item in `indexes` the same state and, if any, error.
void
set_all(std::vector<Outcome>& outcomes,
        const std::vector<std::size_t>& indexes,
        ObjectState state,
        std::optional<std::string> error)
{
  Outcome outcome{state, std::nullopt};
  if (error) {
    outcome.failure = make_failure(FailureKind::backend, std::move(*error));
  }
  for (const auto i : indexes) {
    outcomes[i] = outcome;
  }
}

std::vector<Outcome>
LtfsdmConnector::apply(Operation operation, std::span<const Item> items)
{
  std::vector<Outcome> outcomes(items.size());
  const auto groups = group_files(items, outcomes);
  if (groups.by_name.empty()) {
    return outcomes;
  }

  const FileList list(m_config.tmp_dir, groups.listed);
  const auto change = change_states(operation, list.path());
  const auto set_all_unknown = [&](const std::string& cause) {
    for (const auto& [name, indexes] : groups.by_name) {
      set_all(outcomes, indexes, ObjectState::unknown, failure(cause));
    }
  };
  if (change && change->cannot_run) {
    set_all_unknown(*change->cannot_run);
    return outcomes;
  }

  const Run query = run("ltfsdm info files", {"info", "files", "-f", list.path()});
  if (query.cannot_run) {
    set_all_unknown(*query.cannot_run);
    return outcomes;
  }
  settle_from_listing(operation, groups, change, query, outcomes);
  return outcomes;
}

std::optional<Run>
LtfsdmConnector::change_states(Operation operation, const std::string& list_path) const
{
  if (operation == Operation::migrate) {
    std::vector<std::string> arguments = {"migrate"};
    if (m_config.migrate_mode == MigrateMode::premigrate) {
      arguments.emplace_back("-p");
    }
    arguments.insert(arguments.end(), {"-f", list_path, "-P", m_config.pools});
    return run("ltfsdm migrate", std::move(arguments));
  }
  if (operation == Operation::recall) {
    std::vector<std::string> arguments = {"recall"};
    if (m_config.recall_mode == RecallMode::resident) {
      arguments.emplace_back("-r");
    }
    arguments.insert(arguments.end(), {"-f", list_path});
    return run("ltfsdm recall", std::move(arguments));
  }
  return std::nullopt;
}

void
LtfsdmConnector::settle_from_listing(Operation operation,
                                     const FileGroups& groups,
                                     const std::optional<Run>& change,
                                     const Run& query,
                                     std::vector<Outcome>& outcomes) const
{
  const auto states = parse_info_files(query.captured.output);
  const std::string change_cause = change ? explain(*change, m_config.timeout) : std::string();
  for (const auto& [name, indexes] : groups.by_name) {
    const auto found = states.find(name);
    if (found == states.end()) {
      set_all(outcomes,
              indexes,
              ObjectState::unknown,
              failure("ltfsdm info files does not list the file" + explain(query, m_config.timeout)
                      + change_cause));
      continue;
    }
    const auto state = state_from_letter(found->second);
    if (!state) {
      set_all(outcomes,
              indexes,
              ObjectState::unknown,
              failure(fmt::format("ltfsdm info files gives the file no migration state (\"{}\")",
                                  printable(std::string_view(&found->second, 1))))
                + change_cause);
    } else if (!change || reached(operation, *state)) {
      set_all(outcomes, indexes, *state, std::nullopt);
    } else {
      set_all(outcomes,
              indexes,
              *state,
              failure(fmt::format("{} left the file {}", change->command, to_string(*state)))
                + change_cause);
    }
  }
}

// "pool1,pool2" from the seed's space-separated or ltfsdm's comma-separated
// form; 1 to 3 pools.
std::string
take_pools(Settings& settings)
{
  const auto value = settings.require("tape_storage_pool",
                                      "the tape storage pool(s) to migrate to");
  std::string spaced = value;
  std::replace(spaced.begin(), spaced.end(), ',', ' ');
  const auto pools = external::split_words(spaced);
  if (pools.empty() || pools.size() > k_max_pools) {
    settings.reject("tape_storage_pool",
                    value,
                    fmt::format("1 to {} pool names, comma-separated", k_max_pools));
  }
  return fmt::format("{}", fmt::join(pools, ","));
}

} // namespace

std::unique_ptr<Connector>
create(Settings& settings)
{
  LtfsdmConfig config;
  config.ltfsdm_path = settings.take_or("ltfsdm_path", k_default_ltfsdm_path);
  if (trim(config.ltfsdm_path).empty()) {
    throw ConfigError(fmt::format("empty \"ltfsdm_path\" in {}", settings.origin()));
  }
  config.pools = take_pools(settings);
  config.tmp_dir = settings.take_or("connector_tmp_dir", k_default_tmp_dir);
  if (config.tmp_dir.empty() || !config.tmp_dir.is_absolute()) {
    settings.reject("connector_tmp_dir", config.tmp_dir.string(), "an absolute path");
  }
  config.migrate_mode = settings.choice(
    "migrate_mode",
    MigrateMode::migrate,
    {{"migrate", MigrateMode::migrate}, {"premigrate", MigrateMode::premigrate}});
  config.recall_mode = settings.choice(
    "recall_mode",
    RecallMode::premigrated,
    {{"premigrated", RecallMode::premigrated}, {"resident", RecallMode::resident}});
  config.timeout = std::chrono::seconds(
    settings.count("timeout", k_default_timeout_s, k_max_timeout_s));
  return std::make_unique<LtfsdmConnector>(std::move(config));
}

} // namespace hlm::connector::ltfsdm
