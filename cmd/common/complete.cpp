#include "complete.hpp"

#include <fmt/format.h>

#include <cstddef>
#include <memory>
#include <string_view>
#include <utility>

namespace hlm::cli {

namespace {

constexpr std::size_t k_max_description = 70;

bool
starts_with(std::string_view text, std::string_view prefix)
{
  return text.substr(0, prefix.size()) == prefix;
}

std::vector<const CLI::App*>
visible_subcommands(const CLI::App& app)
{
  // Option groups are nameless subcommands and `__complete` sits in the
  // empty group; neither is something to type.
  return app.get_subcommands([](const CLI::App* sub) {
    return !sub->get_name().empty() && !sub->get_group().empty()
           && !starts_with(sub->get_name(), "__");
  });
}

std::vector<const CLI::Option*>
positionals(const CLI::App& app)
{
  return app.get_options([](const CLI::Option* option) { return option->get_positional(); });
}

bool
takes_value(const CLI::Option& option)
{
  return option.get_items_expected_max() > 0;
}

// Help text squeezed onto one short line, as a menu shows it.
std::string
one_line(std::string_view text)
{
  std::string out;
  for (const char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (!space) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  if (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  if (out.size() > k_max_description) {
    const auto cut = out.rfind(' ', k_max_description - 3);
    out.resize(cut == std::string::npos || cut == 0 ? k_max_description - 3 : cut);
    out += "...";
  }
  return out;
}

// The members of an IsMember check (or the keys of a Transformer), read
// back from the ":{a,b,c}" that CLI11 appends to the type name for --help.
std::vector<std::string>
members(const CLI::Option& option)
{
  std::vector<std::string> out;
  const std::string type = option.get_type_name();
  for (auto open = type.find(":{"); open != std::string::npos; open = type.find(":{", open + 1)) {
    const auto close = type.find('}', open);
    if (close == std::string::npos) {
      break;
    }
    std::string_view set = std::string_view(type).substr(open + 2, close - open - 2);
    while (!set.empty()) {
      const auto comma = set.find(',');
      std::string_view item = set.substr(0, comma);
      item = item.substr(0, item.find("->"));
      if (!item.empty()) {
        out.emplace_back(item);
      }
      set = comma == std::string_view::npos ? std::string_view() : set.substr(comma + 1);
    }
  }
  return out;
}

bool
numeric(const CLI::Option& option)
{
  const std::string type = option.get_type_name();
  const std::string_view head = std::string_view(type).substr(0, type.find(':'));
  return head == "INT" || head == "UINT" || head == "FLOAT" || head == "NUMBER";
}

void
add_if_prefixed(Completion& out,
                std::string word,
                std::string_view description,
                std::string_view partial)
{
  if (starts_with(word, partial)) {
    out.candidates.push_back({std::move(word), one_line(description)});
  }
}

// The value of `option`; `prefix` ("--opt=") is part of the word typed.
void
complete_value(Completion& out,
               const CLI::Option& option,
               std::string_view prefix,
               std::string_view partial)
{
  const auto values = members(option);
  for (const auto& value : values) {
    add_if_prefixed(out,
                    std::string(prefix) + value,
                    "",
                    std::string(prefix) + std::string(partial));
  }
  out.files = values.empty() && !numeric(option);
}

void
complete_options(Completion& out, const CLI::App& app, std::string_view partial)
{
  const bool with_short = !starts_with(partial, "--");
  for (auto* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) {
      add_if_prefixed(out, "--" + name, option->get_description(), partial);
    }
    if (with_short) {
      for (const auto& name : option->get_snames()) {
        add_if_prefixed(out, "-" + name, option->get_description(), partial);
      }
    }
  }
}

// What the command line says so far: where we are, and what the next word
// is for.
struct Position
{
  const CLI::App* app = nullptr;
  const CLI::Option* pending = nullptr; // an option still waiting for its value
  std::size_t positional = 0;           // positional words given to `app`
  bool positional_only = false;         // after "--"
};

void
read_word(Position& at, const std::string& word)
{
  if (at.pending != nullptr) {
    // bash hands "--opt=value" over as "--opt", "=", "value".
    if (word != "=") {
      at.pending = nullptr;
    }
    return;
  }
  if (at.positional_only || word.size() < 2 || word.front() != '-') {
    for (auto* sub :
         at.positional_only ? std::vector<const CLI::App*>{} : visible_subcommands(*at.app)) {
      if (sub->get_name() == word) {
        at = Position{sub};
        return;
      }
    }
    ++at.positional;
    return;
  }
  if (word == "--") {
    at.positional_only = true;
    return;
  }
  if (starts_with(word, "--")) {
    const auto equals = word.find('=');
    auto* option = at.app->get_option_no_throw(word.substr(0, equals));
    if (option != nullptr && takes_value(*option) && equals == std::string::npos) {
      at.pending = option;
    }
    return;
  }
  // A cluster of short flags; the first that takes a value takes the rest
  // of the word, or the next word.
  for (std::size_t i = 1; i < word.size(); ++i) {
    auto* option = at.app->get_option_no_throw(std::string{'-', word[i]});
    if (option != nullptr && takes_value(*option)) {
      if (i + 1 == word.size()) {
        at.pending = option;
      }
      return;
    }
  }
}

void
complete_word(Completion& out, const Position& at, const std::string& partial)
{
  if (at.pending != nullptr) {
    complete_value(out, *at.pending, "", partial);
    return;
  }
  if (!at.positional_only && starts_with(partial, "-")) {
    const auto equals = partial.find('=');
    if (starts_with(partial, "--") && equals != std::string::npos) {
      auto* option = at.app->get_option_no_throw(partial.substr(0, equals));
      if (option != nullptr && takes_value(*option)) {
        complete_value(out, *option, partial.substr(0, equals + 1), partial.substr(equals + 1));
      }
      return;
    }
    complete_options(out, *at.app, partial);
    return;
  }

  const auto subs = at.positional_only ? std::vector<const CLI::App*>{}
                                       : visible_subcommands(*at.app);
  for (auto* sub : subs) {
    add_if_prefixed(out, sub->get_name(), sub->get_description(), partial);
  }
  // The positional this word would fill, if any.
  const CLI::Option* slot = nullptr;
  std::size_t filled = 0;
  for (auto* option : positionals(*at.app)) {
    const auto capacity = static_cast<std::size_t>(option->get_items_expected_max());
    if (at.positional < filled + capacity) {
      slot = option;
      break;
    }
    filled += capacity;
  }
  if (slot != nullptr) {
    for (const auto& value : members(*slot)) {
      add_if_prefixed(out, value, "", partial);
    }
  } else if (subs.empty() && !at.positional_only) {
    complete_options(out, *at.app, partial);
  }
}

void
list_tree(const CLI::App& app, const std::string& prefix, std::vector<std::string>& out)
{
  for (const auto* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) {
      out.push_back(prefix + "--" + name);
    }
  }
  for (auto* sub : visible_subcommands(app)) {
    out.push_back(prefix + sub->get_name());
    list_tree(*sub, prefix + sub->get_name() + " ", out);
  }
}

// Leaves the hidden subcommand out of the usage line: "hlm-dispatch
// [OPTIONS]", not "hlm-dispatch [OPTIONS] [SUBCOMMAND]", when it is the
// only one. CLI11 2.1 counts every named subcommand there, hidden or not.
class UsageWithoutHidden : public CLI::FormatterBase
{
public:
  explicit UsageWithoutHidden(std::shared_ptr<CLI::FormatterBase> inner)
    : m_inner(std::move(inner))
  {
  }

  std::string
  make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override
  {
    std::string help = m_inner->make_help(app, std::move(name), mode);
    if (visible_subcommands(*app).empty()) {
      const std::string marker = " [SUBCOMMAND]";
      const auto end_of_usage = help.find('\n', help.find("Usage:"));
      const auto at = help.rfind(marker, end_of_usage);
      if (end_of_usage != std::string::npos && at != std::string::npos
          && at + marker.size() == end_of_usage) {
        help.erase(at, marker.size());
      }
    }
    return help;
  }

private:
  std::shared_ptr<CLI::FormatterBase> m_inner;
};

} // namespace

Completion
complete(const CLI::App& root, const std::vector<std::string>& words)
{
  Completion out;
  if (words.empty()) {
    return out;
  }
  Position at{&root};
  for (std::size_t i = 1; i + 1 < words.size(); ++i) {
    read_word(at, words[i]);
  }
  complete_word(out, at, words.size() > 1 ? words.back() : std::string());
  return out;
}

std::vector<std::string>
list_tree(const CLI::App& root)
{
  std::vector<std::string> out;
  list_tree(root, "", out);
  return out;
}

void
add_complete_command(CLI::App& root)
{
  auto* cmd = root.add_subcommand("__complete", "completion candidates for the words typed so far");
  cmd->group(""); // hidden from --help
  root.formatter(std::make_shared<UsageWithoutHidden>(root.get_formatter()));
  cmd->set_help_flag();
  struct Flags
  {
    bool describe = false;
    bool list_tree = false;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_flag("--describe", flags->describe, "print WORD<TAB>DESCRIPTION (zsh, fish)");
  cmd->add_flag("--list-tree", flags->list_tree, "print every subcommand and long option");
  // The words start with the command's name, which is not an option, so
  // everything from there on reaches remaining() as typed.
  cmd->prefix_command();
  cmd->callback([cmd, flags, &root] {
    if (flags->list_tree) {
      for (const auto& line : list_tree(root)) {
        fmt::print("{}\n", line);
      }
    } else {
      const auto completion = complete(root, cmd->remaining());
      for (const auto& candidate : completion.candidates) {
        if (flags->describe && !candidate.description.empty()) {
          fmt::print("{}\t{}\n", candidate.word, candidate.description);
        } else {
          fmt::print("{}\n", candidate.word);
        }
      }
      if (completion.files) {
        fmt::print(":files\n");
      }
    }
    // The tool's own callback (hlm-dispatch drains the queue) must not run.
    throw CLI::Success();
  });
}

} // namespace hlm::cli
