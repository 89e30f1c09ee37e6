#include <hlm/transport/transport.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace hlm;
using namespace hlm::transport;

namespace {

const std::vector<std::string> k_hostile = {
  "plain",
  "",
  "two words",
  "it's",
  "''",
  "\"double\"",
  "$HOME ${PATH} $(id) `id`",
  "back\\slash\\",
  "new\nline",
  "tab\there",
  "semi; rm -rf / & | > < * ? [a] ~ # !",
  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xbc",
  "-n",
  "--",
  "'; echo pwned; '",
  "..",
  "../../etc/passwd",
  "a\\'b\\\\'c",
  "\"$(printf x)\"'$(printf y)'",
  "*",
  "~",
};

// What /bin/sh makes of the quoted command: each argument NUL-terminated.
std::string
through_shell(const std::vector<std::string>& argv)
{
  auto local = make_local_transport();
  std::vector<std::string> printf_argv = {"printf", "%s\\0"};
  printf_argv.insert(printf_argv.end(), argv.begin(), argv.end());
  std::string out;
  const auto result = local->run({"/bin/sh", "-c", shell_quote(printf_argv)},
                                 "",
                                 [&](std::string_view chunk) { out += chunk; });
  REQUIRE(result.succeeded());
  return out;
}

} // namespace

TEST_CASE("shell_quote single-quotes every argument", "[transport]")
{
  CHECK(shell_quote({"cat"}) == "'cat'");
  CHECK(shell_quote({"printf", "%s\\n", "a b"}) == "'printf' '%s\\n' 'a b'");
  CHECK(shell_quote({"echo", ""}) == "'echo' ''");
  CHECK(shell_quote({"it's"}) == "'it'\\''s'");
  CHECK(shell_quote({"$x", "`y`", "a\nb"}) == "'$x' '`y`' 'a\nb'");
}

TEST_CASE("shell_quote rejects what a remote exec cannot carry", "[transport]")
{
  CHECK_THROWS_AS(shell_quote({}), InputError);
  CHECK_THROWS_AS(shell_quote({"a", std::string("b\0c", 3)}), InputError);
}

TEST_CASE("/bin/sh turns shell_quote output back into the same argv", "[transport]")
{
  std::string expected;
  for (const auto& arg : k_hostile) {
    expected += arg;
    expected += '\0';
  }
  CHECK(through_shell(k_hostile) == expected);
}

TEST_CASE("a quoted command substitution never runs", "[transport]")
{
  const auto marker = std::filesystem::current_path() / ("hlm-pwned-" + std::to_string(::getpid()));
  const std::string touch = "$(touch " + marker.string() + ")";
  const std::vector<std::string> argv = {touch,
                                         "`touch " + marker.string() + "`",
                                         "'; touch " + marker.string() + "; '",
                                         "\"; touch " + marker.string() + "; \""};
  std::string expected;
  for (const auto& arg : argv) {
    expected += arg;
    expected += '\0';
  }
  CHECK(through_shell(argv) == expected);
  CHECK_FALSE(std::filesystem::exists(marker));
  // The control: unquoted, the same word does run.
  auto local = make_local_transport();
  REQUIRE(local->run({"/bin/sh", "-c", "true " + touch}, "", [](std::string_view) {}).succeeded());
  CHECK(std::filesystem::exists(marker));
  std::filesystem::remove(marker);
}
