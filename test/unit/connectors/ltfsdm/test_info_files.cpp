#include <connectors/ltfsdm/info_files.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::connector;
using namespace hlm::connector::ltfsdm;

TEST_CASE("ltfsdm info files: the documented output", "[connector][ltfsdm]")
{
  // From src/client/InfoFilesCommand.cc's documentation.
  const auto states = parse_info_files(
    "state             size               blocks              tape id  file name\n"
    "m          47049088000                    8             D01301L5  /mnt/lxfs/bigfile\n"
    "r          47049088000             91892752                    -  /mnt/lxfs/bigfile.1\n"
    "p                    5                    8             D01302L5  /mnt/lxfs/bigfile.cp\n");
  CHECK(states
        == FileStates{{"/mnt/lxfs/bigfile", 'm'},
                      {"/mnt/lxfs/bigfile.1", 'r'},
                      {"/mnt/lxfs/bigfile.cp", 'p'}});
}

TEST_CASE("ltfsdm info files: names with spaces, several tapes, odd states", "[connector][ltfsdm]")
{
  const auto states = parse_info_files(
    "state             size               blocks              tape id  file name\n"
    "m                    1                    8 D01301L5,D01302L5,D01303L5  /srv/a  b/c d \n"
    "-                 4096                    8                    -  /srv/a dir\n"
    "                     1                    8                    -  /srv/unknown\n"
    "p                    1                    8             D01301L5  /srv/  leading\n");
  CHECK(states.at("/srv/a  b/c d ") == 'm');
  CHECK(states.at("/srv/a dir") == '-');
  CHECK(states.at("/srv/unknown") == ' ');
  CHECK(states.at("/srv/  leading") == 'p');
  CHECK(states.size() == 4);
}

TEST_CASE("ltfsdm info files: messages, progress and cut lines are skipped", "[connector][ltfsdm]")
{
  const auto states = parse_info_files(
    "LTFSDMC0040E(0360): Unable to find file list '/tmp/x'.\n"
    "[00:00:00]            0            0            0            1            0\n"
    "m  1 8 T  relative/name\n"
    "m x 8 T  /bad/size\n"
    "m 1 8 T /one/space\n"
    "mm 1 8 T  /two/letters\n"
    "m                    1                    8             D01301L5  /complete\n"
    "m                    1                    8             D01301L5  /cut/by/a/time");
  CHECK(states == FileStates{{"/complete", 'm'}});
  CHECK(parse_info_files("").empty());
}

TEST_CASE("ltfsdm info files: state letters", "[connector][ltfsdm]")
{
  CHECK(state_from_letter('r') == ObjectState::resident);
  CHECK(state_from_letter('p') == ObjectState::premigrated);
  CHECK(state_from_letter('m') == ObjectState::migrated);
  CHECK_FALSE(state_from_letter('-'));
  CHECK_FALSE(state_from_letter(' '));
  CHECK_FALSE(state_from_letter('M'));
}

TEST_CASE("ltfsdm info files: listing lines told from messages", "[connector][ltfsdm]")
{
  CHECK(
    is_listing_line("state             size               blocks              tape id  file name"));
  CHECK(
    is_listing_line("m                    1                    8             D01301L5  /complete"));
  CHECK(is_listing_line("r                   14                    8                    -  /a b"));
  CHECK_FALSE(is_listing_line("LTFSDMC0040E(0360): Unable to find file list '/tmp/x'."));
  CHECK_FALSE(
    is_listing_line("[00:00:00]            0            0            0            1            0"));
  CHECK_FALSE(is_listing_line("m  1 8 T  relative/name"));
  CHECK_FALSE(is_listing_line(""));
}
