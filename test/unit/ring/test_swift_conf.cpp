#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>

#include <catch2/catch.hpp>

using namespace hlm;
using namespace hlm::ring;

namespace {

SwiftConf
parse(const std::string& text)
{
  return parse_swift_conf(IniFile::parse(text, "swift.conf"));
}

} // namespace

TEST_CASE("swift.conf: hash secret and policies", "[ring]")
{
  const auto conf = parse("[swift-hash]\n"
                          "swift_hash_path_prefix = saio-prefix\n"
                          "swift_hash_path_suffix = saio-suffix\n"
                          "[storage-policy:1]\n"
                          "name = silver\n"
                          "aliases = argent, zilver\n"
                          "[storage-policy:0]\n"
                          "name = gold\n"
                          "default = yes\n"
                          "[storage-policy:2]\n"
                          "name = ec42\n"
                          "policy_type = erasure_coding\n"
                          "ec_type = liberasurecode_rs_vand\n"
                          "ec_num_data_fragments = 4\n"
                          "ec_num_parity_fragments = 2\n"
                          "deprecated = true\n");
  CHECK(conf.hash_path_prefix == "saio-prefix");
  CHECK(conf.hash_path_suffix == "saio-suffix");
  REQUIRE(conf.policies.size() == 3);
  CHECK(conf.policies[0].name == "gold");
  CHECK(conf.default_policy().index == 0);
  CHECK(conf.find_policy("1").name == "silver");
  CHECK(conf.find_policy("SILVER").index == 1);
  CHECK(conf.find_policy("zilver").index == 1);
  const auto& ec = conf.find_policy("ec42");
  CHECK(ec.type == PolicyType::erasure_coding);
  CHECK(ec.ec_num_data_fragments == 4);
  CHECK(ec.ec_num_parity_fragments == 2);
  CHECK(ec.ec_object_segment_size == 1048576);
  CHECK(ec.deprecated);
  CHECK_THROWS_WITH(conf.find_policy("silvr"), Catch::Contains("did you mean \"silver\""));
  CHECK_THROWS_AS(conf.find_policy("7"), ConfigError);
}

TEST_CASE("swift.conf: implicit policy 0 and a single policy is default", "[ring]")
{
  const auto legacy = parse("[swift-hash]\nswift_hash_path_suffix = s\n");
  REQUIRE(legacy.policies.size() == 1);
  CHECK(legacy.default_policy().name == "Policy-0");
  CHECK(legacy.hash_path_prefix.empty());

  const auto single = parse("[swift-hash]\nswift_hash_path_prefix = p\n"
                            "[storage-policy:3]\nname = only\n");
  CHECK(single.default_policy().index == 3);
}

TEST_CASE("swift.conf: invalid configurations are errors", "[ring]")
{
  const std::string hash = "[swift-hash]\nswift_hash_path_suffix = s\n";
  CHECK_THROWS_WITH(parse("[storage-policy:0]\nname = a\n"), Catch::Contains("[swift-hash]"));
  CHECK_THROWS_WITH(parse(hash + "[storage-policy:x]\nname = a\n"),
                    Catch::Contains("invalid storage policy index"));
  CHECK_THROWS_WITH(parse(hash
                          + "[storage-policy:0]\nname = a\n[storage-policy:1]\nname = A\n"
                            "default = yes\n"),
                    Catch::Contains("duplicate storage policy name"));
  CHECK_THROWS_WITH(parse(hash + "[storage-policy:0]\nname = a\n[storage-policy:1]\nname = b\n"),
                    Catch::Contains("no storage policy is marked default"));
  CHECK_THROWS_WITH(parse(hash
                          + "[storage-policy:0]\nname = a\ndefault = yes\n"
                            "[storage-policy:1]\nname = b\ndefault = yes\n"),
                    Catch::Contains("more than one"));
  CHECK_THROWS_WITH(parse(hash + "[storage-policy:0]\nname = a\npolicy_type = magic\n"),
                    Catch::Contains("unknown policy_type"));
  CHECK_THROWS_WITH(parse(hash
                          + "[storage-policy:0]\nname = a\npolicy_type = erasure_coding\n"
                            "ec_type = x\nec_num_data_fragments = 0\n"),
                    Catch::Contains("ec_num_data_fragments"));
  CHECK_THROWS_WITH(parse(hash + "[storage-policy:0]\nname = a\ndeprecated = yes\n"),
                    Catch::Contains("deprecated"));
}

TEST_CASE("swift.conf: a policy's diskfile_module", "[ring]")
{
  const auto conf = parse("[swift-hash]\nswift_hash_path_suffix = s\n"
                          "[storage-policy:0]\nname = gold\ndefault = yes\n"
                          "diskfile_module =  egg:hlm_swift#replication.fs \n"
                          "[storage-policy:1]\nname = silver\n");
  CHECK(conf.policy_by_index(0)->diskfile_module == "egg:hlm_swift#replication.fs");
  CHECK(conf.policy_by_index(1)->diskfile_module.empty());
}
