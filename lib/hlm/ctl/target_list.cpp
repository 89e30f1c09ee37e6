#include <hlm/ctl/submit.hpp>
#include <hlm/ctl/target_list.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace hlm::ctl {

namespace {

// A record of the sorter: account, container and object, each ended by a
// NUL (which Swift names cannot hold), so that byte order is the order of
// (account, container, object); then where the target was given, big
// endian, so that of duplicates the first given sorts first.
constexpr std::size_t k_origin_bytes = 4 + 8;

void
put_big_endian(std::string& out, std::uint64_t value, int bytes)
{
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::uint64_t
get_big_endian(std::string_view in)
{
  std::uint64_t value = 0;
  for (const char c : in) {
    value = (value << 8) | static_cast<unsigned char>(c);
  }
  return value;
}

std::string_view
key_of(std::string_view record)
{
  return record.substr(0, record.size() - k_origin_bytes);
}

std::string_view
next_field(std::string_view& rest)
{
  const auto end = rest.find('\0');
  const auto field = rest.substr(0, end);
  rest.remove_prefix(end + 1);
  return field;
}

} // namespace

void
read_target_list(std::istream& in,
                 const std::string& name,
                 const std::function<void(queue::Target, std::uint64_t line)>& on_target,
                 const std::function<void(std::uint64_t line, std::string reason)>& on_bad)
{
  std::string line;
  for (std::uint64_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') {
      continue;
    }
    if (line.find('\0') != std::string::npos) {
      on_bad(number, "a name cannot hold a NUL byte");
      continue;
    }
    queue::Target target;
    try {
      target = parse_target(line);
    } catch (const InputError& e) {
      on_bad(number, e.what());
      continue;
    }
    on_target(std::move(target), number);
  }
  if (in.bad()) {
    throw InputError(fmt::format("cannot read target list \"{}\": {}", name, std::strerror(errno)));
  }
}

std::string
to_string(const TargetOrigin& origin)
{
  return origin.line == 0 ? "argument" : fmt::format("{} line {}", origin.list, origin.line);
}

TargetList::TargetList(ExternalSorter::Options sort)
  : m_lists{"arguments"},
    m_bad_per_list{0}
{
  sort.key_of = key_of;
  m_sorter = std::make_unique<ExternalSorter>(std::move(sort));
}

void
TargetList::add(const queue::Target& target, std::uint32_t list, std::uint64_t line)
{
  m_record.clear();
  for (const auto* field : {&target.account, &target.container, &target.object}) {
    m_record.append(*field);
    m_record.push_back('\0');
  }
  put_big_endian(m_record, list, 4);
  put_big_endian(m_record, line, 8);
  m_sorter->add(m_record);
  ++m_targets;
}

void
TargetList::read(const std::vector<std::string>& arguments,
                 const std::vector<std::string>& files,
                 std::istream& standard_input,
                 const std::function<queue::Target(queue::Target)>& resolve)
{
  std::uint64_t position = 0;
  for (const auto& text : arguments) {
    // An argument is not a line of a list: a bad one is a usage error.
    add(resolve(parse_target(text)), 0, ++position);
  }
  for (const auto& file : files) {
    read_list(file, standard_input, resolve);
  }
  if (m_targets == 0 && m_bad == 0) {
    throw InputError("no target given (TARGET arguments or -f FILE)");
  }
}

void
TargetList::read_list(const std::string& file,
                      std::istream& standard_input,
                      const std::function<queue::Target(queue::Target)>& resolve)
{
  std::ifstream stream;
  std::istream* in = &standard_input;
  const std::string name = file == "-" ? "standard input" : file;
  if (file != "-") {
    if (std::filesystem::is_directory(file)) {
      throw InputError(fmt::format("cannot read target list \"{}\": it is a directory", file));
    }
    stream.open(file);
    if (!stream) {
      throw InputError(
        fmt::format("cannot read target list \"{}\": {}", file, std::strerror(errno)));
    }
    in = &stream;
  }
  const auto index = static_cast<std::uint32_t>(m_lists.size());
  m_lists.push_back(name);
  m_bad_per_list.push_back(0);
  read_target_list(
    *in,
    name,
    [&](queue::Target target, std::uint64_t line) { add(resolve(std::move(target)), index, line); },
    [&](std::uint64_t line, std::string reason) {
      ++m_bad;
      ++m_bad_per_list[index];
      if (m_shown.size() < k_shown_problems) {
        m_shown.push_back({name, line, std::move(reason)});
      }
    });
}

void
TargetList::report_bad_lines(std::ostream& err) const
{
  for (const auto& bad : m_shown) {
    fmt::print(err, "hlmctl: error: {} line {}: {}\n", bad.list, bad.line, bad.reason);
  }
  for (std::size_t i = 1; i < m_lists.size(); ++i) {
    const auto count = m_bad_per_list[i];
    if (count == 0) {
      continue;
    }
    const auto shown = static_cast<std::uint64_t>(
      std::count_if(m_shown.begin(), m_shown.end(), [&](const BadLine& bad) {
        return bad.list == m_lists[i];
      }));
    fmt::print(err,
               "hlmctl: error: {} bad line{} in {}, not queued{}\n",
               count,
               count == 1 ? "" : "s",
               m_lists[i],
               shown == count ? ""
               : shown == 0   ? "; none shown"
                              : fmt::format("; first {} shown", shown));
  }
}

std::uint64_t
TargetList::for_each(
  const std::function<void(const queue::Target&, const TargetOrigin&)>& on_target)
{
  queue::Target target;
  TargetOrigin origin;
  return m_sorter->finish([&](std::string_view record) {
    auto rest = key_of(record);
    target.account.assign(next_field(rest));
    target.container.assign(next_field(rest));
    target.object.assign(next_field(rest));
    const auto where = record.substr(record.size() - k_origin_bytes);
    const auto list = get_big_endian(where.substr(0, 4));
    origin.list = m_lists.at(list);
    origin.line = list == 0 ? 0 : get_big_endian(where.substr(4)); // 0: an argument
    on_target(target, origin);
  });
}

} // namespace hlm::ctl
