#pragma once

// A RequestQueue on fake container servers (three replicas on
// 127.0.0.1:6010..6040) and the swift.conf of its swift_dir: two storage
// policies, gold (0, default) and silver (1).

#include "../queue/fake_container_servers.hpp"
#include "../queue/fake_object_servers.hpp"
#include "../support/ring_writer.hpp"
#include "../support/temp_dir.hpp"

#include <hlm/queue/queue.hpp>
#include <hlm/ring/swift_conf.hpp>

#include <memory>
#include <string>
#include <vector>

namespace hlm::test {

struct QueueFixture
{
  TempDir dir;
  FakeContainerServers servers;
  FakeObjectServers objects; // list manifests, on 127.0.0.1:6110..6140
  SplitHttp http{servers, objects, 6100};
  std::unique_ptr<queue::RequestQueue> queue;
  ring::SwiftConf swift_conf;

  QueueFixture()
  {
    dir.write("swift.conf",
              "[swift-hash]\nswift_hash_path_prefix = p\nswift_hash_path_suffix = s\n"
              "[storage-policy:0]\nname = gold\ndefault = yes\n"
              "[storage-policy:1]\nname = silver\n");
    write_gzip(dir.path() / "container.ring.gz", serialize(simple_ring(4, 3)));
    write_gzip(dir.path() / "object.ring.gz", serialize(simple_ring(4, 3, 6110)));
    queue = std::make_unique<queue::RequestQueue>(http, dir.path());
    swift_conf = ring::load_swift_conf(dir.path());
  }

  // Queues `entry` (a request id) and returns its id.
  std::string
  submit(const std::string& id)
  {
    return queue->submit(queue::decode_entry(id));
  }

  // Queues a list request of `names` (sorted, unique) of `container`;
  // returns its id.
  std::string
  submit_list(Operation operation,
              const std::string& container,
              const std::vector<std::string>& names,
              const std::string& submitted = "20261122120010.000")
  {
    const queue::ListHeader header{operation, "AUTH_test", container, 0};
    std::string body;
    queue::ManifestWriter writer(header, [&](std::string_view bytes) { body.append(bytes); });
    for (const auto& name : names) {
      writer.add(name);
    }
    return queue->submit_list(header, submitted, body, writer.finish());
  }

  // Moves the pending request `id` to the failed queue with `reason`.
  void
  fail(const std::string& id, const std::string& reason)
  {
    queue->for_each(queue::Which::pending, [&](const queue::ListedEntry& listed) {
      if (listed.row.name == id) {
        queue->fail(listed.row, reason);
      }
      return true;
    });
  }

  std::vector<std::string>
  names(queue::Which which)
  {
    std::vector<std::string> out;
    queue->for_each(which, [&](const queue::ListedEntry& listed) {
      out.push_back(listed.row.name);
      return true;
    });
    return out;
  }
};

} // namespace hlm::test
