// Prints what hlm::IniFile reads from a file as JSON, {"section": {"key":
// "value"}} in file order, for test/unit/util/compare_ini.py to hold
// against Python's configparser. Exit 1 with the error on stderr.
#include <hlm/util/error.hpp>
#include <hlm/util/ini.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

int
main(int argc, char** argv)
{
  if (argc != 2) {
    std::cerr << "usage: ini_dump FILE\n";
    return 2;
  }
  try {
    const auto ini = hlm::IniFile::load(argv[1]);
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& name : ini.section_names()) {
      auto& section = out[name] = nlohmann::ordered_json::object();
      for (const auto& [key, value] : *ini.section(name)) {
        section[key] = value;
      }
    }
    std::cout << out.dump() << '\n';
    return 0;
  } catch (const hlm::Error& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
}
