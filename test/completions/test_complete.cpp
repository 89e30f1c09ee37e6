#include <common/complete.hpp>

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using hlm::cli::complete;
using hlm::cli::list_tree;

namespace {

// A tool shaped like hlmctl and hlm-handler at once: subcommands, an
// enumerated option, an enumerated positional, numbers and paths.
struct Tool
{
  CLI::App app{"a tool", "tool"};
  std::string mode;
  int count = 0;
  std::string path;
  bool quiet = false;
  std::vector<std::string> files;
  std::string operation;

  Tool()
  {
    app.add_option("--mode", mode, "how")->check(CLI::IsMember({"fast", "slow"}));
    app.add_option("--count", count, "how many")->check(CLI::Range(1, 9));
    app.add_option("--path", path, "where");
    app.add_flag("-q,--quiet", quiet, "say less");
    auto* run = app.add_subcommand("run", "Run it");
    run->add_option("operation", operation, "what")->check(CLI::IsMember({"status", "migrate"}));
    run->add_option("-f,--file", files, "read FILE")->allow_extra_args(false);
    app.add_subcommand("show", "Show it");
    hlm::cli::add_complete_command(app);
  }
};

std::vector<std::string>
words_of(const hlm::cli::Completion& completion)
{
  std::vector<std::string> out;
  for (const auto& candidate : completion.candidates) {
    out.push_back(candidate.word);
  }
  return out;
}

using Words = std::vector<std::string>;

} // namespace

TEST_CASE("subcommands complete by prefix, hidden ones never")
{
  Tool tool;
  CHECK(words_of(complete(tool.app, {"tool", ""})) == Words{"run", "show"});
  CHECK(words_of(complete(tool.app, {"tool", "r"})) == Words{"run"});
  CHECK(words_of(complete(tool.app, {"tool", "__"})).empty());
  const auto completion = complete(tool.app, {"tool", "r"});
  CHECK(completion.candidates.at(0).description == "Run it");
  CHECK_FALSE(completion.files);
}

TEST_CASE("a dash completes the innermost subcommand's options")
{
  Tool tool;
  CHECK(words_of(complete(tool.app, {"tool", "--m"})) == Words{"--mode"});
  CHECK(words_of(complete(tool.app, {"tool", "run", "--"})) == Words{"--help", "--file"});
  CHECK(words_of(complete(tool.app, {"tool", "run", "-"}))
        == Words{"--help", "-h", "--file", "-f"});
  CHECK(words_of(complete(tool.app, {"tool", "-q", "--mode", "fast", "run", "--f"}))
        == Words{"--file"});
}

TEST_CASE("an option's value: its members, nothing for a number, else files")
{
  Tool tool;
  CHECK(words_of(complete(tool.app, {"tool", "--mode", ""})) == Words{"fast", "slow"});
  CHECK(words_of(complete(tool.app, {"tool", "--mode", "s"})) == Words{"slow"});
  // bash splits "--mode=s" into three words.
  CHECK(words_of(complete(tool.app, {"tool", "--mode", "=", "s"})) == Words{"slow"});
  CHECK(words_of(complete(tool.app, {"tool", "--mode=s"})) == Words{"--mode=slow"});

  const auto count = complete(tool.app, {"tool", "--count", ""});
  CHECK(count.candidates.empty());
  CHECK_FALSE(count.files);

  CHECK(complete(tool.app, {"tool", "--path", ""}).files);
  CHECK(complete(tool.app, {"tool", "--path=/e"}).files);
  CHECK(complete(tool.app, {"tool", "run", "-f", "x"}).files);
  CHECK(complete(tool.app, {"tool", "run", "-f", "a", "--file", ""}).files);
}

TEST_CASE("a value already given does not hold the next word")
{
  Tool tool;
  CHECK(words_of(complete(tool.app, {"tool", "--mode", "fast", "r"})) == Words{"run"});
  CHECK(words_of(complete(tool.app, {"tool", "--mode=fast", "r"})) == Words{"run"});
  CHECK(words_of(complete(tool.app, {"tool", "run", "-fx", "m"})) == Words{"migrate"});
  // A flag takes no value.
  CHECK(words_of(complete(tool.app, {"tool", "-q", "s"})) == Words{"show"});
}

TEST_CASE("an enumerated positional completes its members, then the options")
{
  Tool tool;
  CHECK(words_of(complete(tool.app, {"tool", "run", ""})) == Words{"status", "migrate"});
  CHECK(words_of(complete(tool.app, {"tool", "run", "m"})) == Words{"migrate"});
  CHECK(words_of(complete(tool.app, {"tool", "run", "status", ""}))
        == Words{"--help", "-h", "--file", "-f"});
  // After "--" every word is positional.
  CHECK(words_of(complete(tool.app, {"tool", "run", "--", "-"})).empty());
  CHECK(words_of(complete(tool.app, {"tool", "run", "--", "s"})) == Words{"status"});
}

TEST_CASE("a tool without subcommands offers its options on an empty word")
{
  CLI::App app{"plain", "plain"};
  bool flag = false;
  app.add_flag("--flag", flag, "a flag");
  hlm::cli::add_complete_command(app);
  CHECK(words_of(complete(app, {"plain", ""})) == Words{"--help", "-h", "--flag"});
}

TEST_CASE("descriptions fit on one short line")
{
  CLI::App app{"plain", "plain"};
  std::string value;
  app.add_option(
    "--long",
    value,
    "a description that goes on and on,\n  over more than one line, well past what a menu shows");
  const auto completion = complete(app, {"plain", "--l"});
  REQUIRE(completion.candidates.size() == 1);
  const auto& description = completion.candidates.front().description;
  CHECK(description.size() <= 70);
  CHECK(description.rfind("a description that goes on and on, over more", 0) == 0);
  CHECK(description.substr(description.size() - 3) == "...");
}

TEST_CASE("the tree lists subcommands and long options, depth first")
{
  Tool tool;
  CHECK(list_tree(tool.app)
        == Words{"--help",
                 "--mode",
                 "--count",
                 "--path",
                 "--quiet",
                 "run",
                 "run --help",
                 "run --file",
                 "show",
                 "show --help"});
}
