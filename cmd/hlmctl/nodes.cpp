// hlmctl nodes: where a name lives (like swift-get-nodes).

#include "commands.hpp"

#include <hlm/ctl/submit.hpp>
#include <hlm/ring/placement.hpp>
#include <hlm/ring/swift_conf.hpp>
#include <hlm/util/error.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>

namespace hlm::ctl {

namespace {

struct NodesOptions
{
  std::optional<std::filesystem::path> swift_dir; // default: hlm.conf's
  std::optional<std::string> policy;
  bool json = false;
  std::string target;
};

nlohmann::json
to_json(const ring::Placement& p)
{
  nlohmann::json nodes = nlohmann::json::array();
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    const auto& d = p.nodes[i];
    nodes.push_back({{"index", i},
                     {"id", d.id},
                     {"region", d.region},
                     {"zone", d.zone},
                     {"ip", d.ip},
                     {"port", d.port},
                     {"replication_ip", d.replication_ip},
                     {"replication_port", d.replication_port},
                     {"device", d.device}});
  }
  nlohmann::json out = {
    {"account", p.name.account},
    {"container", p.name.container.empty() ? nlohmann::json() : nlohmann::json(p.name.container)},
    {"object", p.name.object.empty() ? nlohmann::json() : nlohmann::json(p.name.object)},
    {"ring", p.ring_file.string()},
    {"partition", p.partition},
    {"hash", p.hash},
    {"nodes", nodes}};
  if (p.policy) {
    out["policy_index"] = p.policy->index;
    out["policy"] = p.policy->name;
    out["object_dir"] = p.object_dir;
  }
  return out;
}

void
print_human(const ring::Placement& p)
{
  fmt::print("Account      {}\n", p.name.account);
  if (!p.name.container.empty()) {
    fmt::print("Container    {}\n", p.name.container);
  }
  if (!p.name.object.empty()) {
    fmt::print("Object       {}\n", p.name.object);
    fmt::print("Policy       {} ({})\n", p.policy->index, p.policy->name);
  }
  fmt::print("Ring         {}\n", p.ring_file.string());
  fmt::print("Partition    {}\n", p.partition);
  fmt::print("Hash         {}\n", p.hash);
  fmt::print("\nPrimary nodes:\n");
  for (const auto& d : p.nodes) {
    fmt::print("  {}:{}  {}  (id {}, region {}, zone {}, replication {}:{})\n",
               d.ip,
               d.port,
               d.device,
               d.id,
               d.region,
               d.zone,
               d.replication_ip,
               d.replication_port);
  }
  if (!p.object_dir.empty()) {
    fmt::print("\nOn each node: <devices>/<device>/{}/\n", p.object_dir);
  }
}

} // namespace

void
add_nodes_command(CLI::App& parent, Context& ctx)
{
  auto opts = std::make_shared<NodesOptions>();
  auto* cmd = parent.add_subcommand("nodes",
                                    "Show the partition, hash and primary devices of a name");
  cmd->add_option(
    "--swift-dir",
    opts->swift_dir,
    "directory with swift.conf and the rings (default: hlm.conf's swift_dir, /etc/swift)");
  cmd->add_option(
    "--policy",
    opts->policy,
    "storage policy name or index (objects; default: the container's, asked of the proxy)");
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->add_option("target", opts->target, "ACCOUNT[/CONTAINER[/OBJECT]]")->required();
  cmd->callback([opts, &ctx] {
    const auto swift_dir = opts->swift_dir.value_or(ctx.conf().swift_dir);
    const auto name = parse_swift_name(opts->target);
    const auto swift_conf = ring::load_swift_conf(swift_dir); // once, for the policy and the ring
    auto policy = opts->policy;
    if (!policy && !name.object.empty()) {
      // An object lives in the ring of its container's policy: ask the
      // proxy as the caller. Without credentials or without the
      // container, say so and show the default policy's placement.
      try {
        policy = std::to_string(
          container_policy(ctx.client(), swift_conf, {name.account, name.container, {}}).index);
      } catch (const Error& e) {
        fmt::print(stderr,
                   "hlmctl: warning: cannot learn the container's storage policy ({}); "
                   "showing the default policy's placement (give --policy)\n",
                   e.what());
      }
    }
    const auto placement = ring::locate(swift_conf, swift_dir, name, policy);
    if (opts->json || ctx.common.json) {
      std::cout << to_json(placement).dump(2) << '\n';
    } else {
      print_human(placement);
    }
    ctx.status = 0;
  });
}

} // namespace hlm::ctl
