#pragma once

// Shell completion for every hlm executable. The hidden `__complete`
// subcommand answers from the CLI11 tree itself, so the scripts in
// completions/ and the man page test keep no lists of their own.

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace hlm::cli {

struct Candidate
{
  std::string word;
  std::string description; // one line; empty when there is nothing to say
};

// What the shell should offer for the word being completed.
struct Completion
{
  std::vector<Candidate> candidates; // only those starting with the typed prefix
  bool files = false;                // offer file names instead: the word is a path
};

// `words` are the words typed so far, the command name first and the word
// being completed last (empty after a space). The innermost subcommand
// named in them decides:
// - the value of an option (after `--opt`, `--opt =` as bash splits it, or
//   inside `--opt=`): the members of its IsMember check; nothing for a
//   number; otherwise file names;
// - a word starting with '-': that subcommand's options;
// - any other word: its subcommands and the members of an IsMember
//   positional; its options when nothing else can come next.
Completion complete(const CLI::App& root, const std::vector<std::string>& words);

// One line per subcommand ("nodes") and per long option ("--help",
// "nodes --json"), depth first, hidden subcommands left out.
std::vector<std::string> list_tree(const CLI::App& root);

// Adds the hidden `__complete` subcommand to `root`:
//   TOOL __complete [--describe] WORD...  candidates, one per line
//                                         ("word<TAB>description" with
//                                         --describe), then ":files" when
//                                         the shell should offer file names
//   TOOL __complete --list-tree           list_tree()
// It ends the parse with CLI::Success, so `root`'s own callback never runs.
void add_complete_command(CLI::App& root);

} // namespace hlm::cli
