// hlmctl __complete: shell completion and the man page test read the
// command tree from here, so neither keeps its own list.

#include "commands.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

namespace hlm::ctl {

namespace {

std::vector<std::string>
long_options(const CLI::App& app)
{
  std::vector<std::string> out;
  for (const auto* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) {
      out.push_back("--" + name);
    }
  }
  return out;
}

std::vector<const CLI::App*>
visible_subcommands(const CLI::App& app)
{
  std::vector<const CLI::App*> out;
  for (const auto* sub : app.get_subcommands([](const CLI::App* a) {
         return !a->get_group().empty() && a->get_name().rfind("__", 0) != 0;
       })) {
    out.push_back(sub);
  }
  return out;
}

// Every "SUBCOMMAND" and "SUBCOMMAND --option" line of the tree.
void
list_tree(const CLI::App& app, const std::string& prefix)
{
  for (const auto& option : long_options(app)) {
    fmt::print("{}{}\n", prefix, option);
  }
  for (const auto* sub : visible_subcommands(app)) {
    fmt::print("{}{}\n", prefix, sub->get_name());
    list_tree(*sub, prefix + sub->get_name() + " ");
  }
}

void
complete(const CLI::App& root, const std::vector<std::string>& words)
{
  const CLI::App* app = &root;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    for (const auto* sub : visible_subcommands(*app)) {
      if (sub->get_name() == words[i]) {
        app = sub;
        break;
      }
    }
  }
  const std::string partial = words.empty() ? "" : words.back();
  std::vector<std::string> candidates = long_options(*app);
  if (partial.empty() || partial.front() != '-') {
    candidates.clear();
    for (const auto* sub : visible_subcommands(*app)) {
      candidates.push_back(sub->get_name());
    }
  }
  for (const auto& candidate : candidates) {
    if (candidate.rfind(partial, 0) == 0) {
      fmt::print("{}\n", candidate);
    }
  }
}

} // namespace

void
add_complete_command(CLI::App& parent, CLI::App& root)
{
  auto* cmd = parent.add_subcommand("__complete", "completion candidates for the words typed so far");
  cmd->group(""); // hidden from --help
  // Everything after __complete is a word to complete, options included.
  cmd->prefix_command();
  cmd->callback([cmd, &root] {
    const std::vector<std::string> words = cmd->remaining();
    if (words.size() == 1 && words.front() == "--list-tree") {
      list_tree(root, "");
    } else {
      complete(root, words);
    }
  });
}

} // namespace hlm::ctl
