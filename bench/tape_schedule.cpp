// Simulated drive-seconds to recall objects queued as single-object
// requests from a tapesim library: FIFO (one connector call per request,
// in arrival order, the seed's way) beside batched (one call for the whole
// queue, ordered by cartridge and position), beside the physical lower
// bound for the same placement. Real bytes move; time is simulated.
//
//   bench_tape_schedule [--objects 100,1000,10000] [--fill 5] [--cartridges 20]
//                       [--drives 2] [--object-size 16384] [--batch-size 10000]
//                       [--dir DIR]
//
// The library holds `fill` times as many objects as are recalled, so the
// recalled ones lie scattered along each cartridge, as they would on a
// real tape that holds more than today's requests.

#include "../test/unit/support/swift_metadata.hpp"

#include <hlm/util/hex.hpp>
#include <hlm/util/md5.hpp>

#include <connectors/builtin.hpp>
#include <connectors/tapesim/library.hpp>
#include <connectors/tapesim/schedule.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <set>

using namespace hlm;
using namespace hlm::connector;
namespace fs = std::filesystem;

namespace {

struct Figures
{
  tapesim::Cost cost;
  double wall_seconds = 0;
  std::size_t calls = 0;
};

struct Row
{
  std::size_t objects = 0;
  Figures fifo;
  Figures batched;
  double bound = 0;
};

class Bench
{
public:
  Bench(fs::path dir,
        std::size_t recalled,
        std::size_t fill,
        std::size_t cartridges,
        std::size_t drives,
        std::size_t object_size)
    : m_dir(std::move(dir))
  {
    const std::size_t objects = recalled * fill;
    fs::remove_all(m_dir);
    fs::create_directories(m_dir / "disk");
    std::mt19937 random(1);
    for (std::size_t i = 0; i < objects; ++i) {
      std::string body(object_size, '\0');
      for (auto& c : body) {
        c = static_cast<char>(random());
      }
      const auto file = m_dir / "disk" / fmt::format("{:06}.data", i);
      std::ofstream(file, std::ios::binary) << body;
      const auto name = fmt::format("/AUTH_test/bench/o{:06}", i);
      test::write_object_metadata(file,
                                  name,
                                  "1700000000.00000",
                                  to_hex(md5(body)),
                                  std::to_string(body.size()));
      m_items.push_back({name, file.string()});
    }
    // Objects fill the cartridges evenly, so every cartridge is a full
    // "tape" for the locate and rewind model. Each copy also carries its
    // tape record header (connectors/tapesim/tape_record.hpp): a few
    // hundred bytes for these objects, so 1 KiB of room each.
    const auto per_cartridge = (objects + cartridges - 1) / cartridges;
    const auto record_size = object_size + 1024;
    m_settings = {{"library", (m_dir / "library").string()},
                  {"cartridge_capacity", std::to_string(per_cartridge * record_size)},
                  {"slots", std::to_string(cartridges + 1)},
                  {"drives", std::to_string(drives)}};
    m_connector = create_connector("tapesim", Settings("[bench]", m_settings));
    // The requests: a random choice of the stored objects, in random order.
    m_requests = m_items;
    std::shuffle(m_requests.begin(), m_requests.end(), std::mt19937(42));
    m_requests.resize(recalled);
    tapesim::LibraryOptions options;
    options.root = m_dir / "library";
    options.cartridge_capacity = per_cartridge * record_size;
    options.drives = drives;
    m_library = std::make_unique<tapesim::Library>(options);
  }

  ~Bench()
  {
    m_connector.reset();
    m_library.reset();
    std::error_code ignored;
    fs::remove_all(m_dir, ignored);
  }

  void
  migrate_all()
  {
    require_ok(m_connector->run(Operation::migrate, m_items), "migrate");
  }

  // Back to migrated after a recall: a state change, no bytes move.
  void
  migrate_requests()
  {
    require_ok(m_connector->run(Operation::migrate, m_requests), "migrate");
  }

  const std::vector<Item>&
  requests() const
  {
    return m_requests;
  }

  // Recalls `queue` in calls of `per_call` items, from empty drives to
  // empty drives.
  Figures
  recall(const std::vector<Item>& queue, std::size_t per_call)
  {
    unload();
    const auto before = m_library->total_cost();
    Figures figures;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < queue.size(); i += per_call) {
      const auto n = std::min(per_call, queue.size() - i);
      require_ok(m_connector->run(Operation::recall, std::span(queue).subspan(i, n)), "recall");
      ++figures.calls;
    }
    figures.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    unload();
    figures.cost = m_library->total_cost();
    figures.cost.mounts -= before.mounts;
    figures.cost.bytes -= before.bytes;
    figures.cost.robot -= before.robot;
    figures.cost.load -= before.load;
    figures.cost.locate -= before.locate;
    figures.cost.transfer -= before.transfer;
    figures.cost.rewind -= before.rewind;
    figures.cost.unload -= before.unload;
    return figures;
  }

  double
  lower_bound()
  {
    std::vector<tapesim::Extent> extents;
    for (const auto& item : m_requests) {
      const auto copy = m_library->find(item.file);
      extents.push_back({copy->cartridge, copy->position, copy->length});
    }
    return tapesim::lower_bound_seconds(extents, m_library->options().timing);
  }

private:
  void
  unload()
  {
    auto hold = m_library->hold();
    m_library->unload_all();
  }

  static void
  require_ok(const std::vector<Outcome>& outcomes, std::string_view what)
  {
    for (const auto& outcome : outcomes) {
      if (!outcome.ok()) {
        throw std::runtime_error(fmt::format("{} failed: {}", what, outcome.failure->message));
      }
    }
  }

  fs::path m_dir;
  std::vector<Item> m_items;
  std::vector<Item> m_requests;
  std::vector<std::pair<std::string, std::string>> m_settings;
  std::unique_ptr<Connector> m_connector;
  std::unique_ptr<tapesim::Library> m_library;
};

// The `library` subcommand's arguments.
struct LibraryArgs
{
  fs::path dir;
  std::uint64_t capacity = 0;
  bool unload = false;
  bool on_disk = false;
};

// Unloads the drives of an existing library, or prints the lower bound for
// its copies (those on disk only with `on_disk`) as JSON.
int
run_library(const LibraryArgs& args, std::size_t drives)
{
  tapesim::LibraryOptions options;
  options.root = args.dir;
  options.cartridge_capacity = args.capacity;
  options.drives = drives;
  tapesim::Library library(options);
  if (args.unload) {
    auto hold = library.hold();
    library.unload_all();
    return 0;
  }
  std::vector<tapesim::Extent> extents;
  for (const auto& copy : library.copies()) {
    if (args.on_disk && (copy.state != ObjectState::premigrated || copy.released)) {
      continue;
    }
    extents.push_back({copy.cartridge, copy.position, copy.length});
  }
  std::set<std::string> used;
  for (const auto& extent : extents) {
    used.insert(extent.cartridge);
  }
  fmt::print("{{\"copies\": {}, \"cartridges\": {}, \"lower_bound_seconds\": {:.3f}}}\n",
             extents.size(),
             used.size(),
             tapesim::lower_bound_seconds(extents, library.options().timing));
  return 0;
}

// The `library` subcommand, for bench/tape_schedule_dispatch.sh, which
// drives a library through hlm-dispatch on a real Swift and needs the
// unload and the bound.
CLI::App*
add_library_command(CLI::App& app, LibraryArgs& args, std::size_t& drives)
{
  auto* cmd = app.add_subcommand("library",
                                 "unload the drives of an existing library, "
                                 "or print the lower bound for its copies");
  cmd->add_option("--library", args.dir, "library directory")->required();
  cmd->add_option("--capacity", args.capacity, "its cartridge_capacity in bytes")->required();
  cmd->add_option("--drives", drives, "its drives");
  cmd->add_flag("--unload", args.unload, "rewind and unload every drive");
  cmd->add_flag("--on-disk",
                args.on_disk,
                "the bound for the copies whose data is on disk (recalled) only");
  return cmd;
}

} // namespace

int
main(int argc, char** argv)
{
  CLI::App app{"tapesim: FIFO vs batched recall, in simulated drive-seconds"};
  std::vector<std::size_t> sizes = {100, 1000, 10000};
  std::size_t cartridges = 20;
  std::size_t drives = 2;
  std::size_t object_size = 16 * 1024;
  std::size_t fill = 5;
  std::size_t batch_size = 10'000;
  fs::path dir = fs::current_path() / "bench-tape-schedule";
  app.add_option("--objects", sizes, "object counts to run")->delimiter(',');
  app.add_option("--fill", fill, "objects stored per object recalled")->check(CLI::Range(1, 1000));
  app.add_option("--cartridges", cartridges, "cartridges the objects are spread over");
  app.add_option("--drives", drives, "tape drives");
  app.add_option("--object-size", object_size, "bytes per object");
  app.add_option("--batch-size",
                 batch_size,
                 "objects per connector call when batched "
                 "(hlm.conf [dispatch] batch_size)");
  app.add_option("--dir", dir, "scratch directory (removed afterwards)");
  LibraryArgs library_args;
  auto* library_cmd = add_library_command(app, library_args, drives);
  CLI11_PARSE(app, argc, argv);

  if (*library_cmd) {
    return run_library(library_args, drives);
  }

  fmt::print("tapesim: recall N objects queued as N single-object requests in random order.\n"
             "The library holds {}xN objects of {} KiB on {} cartridges, {} drives, LTO-9 timing.\n"
             "Drive-seconds are simulated, from empty drives to empty drives (every mounted\n"
             "cartridge rewound and unloaded). FIFO: one connector call per request, in arrival\n"
             "order. Batched: one call per {} requests, ordered by cartridge and position.\n\n",
             fill,
             object_size / 1024,
             cartridges,
             drives,
             batch_size);
  fmt::print("{:>7}  {:>12} {:>7}  {:>12} {:>7}  {:>12}  {:>13}  {:>12}  {:>16}\n",
             "objects",
             "FIFO drive-s",
             "mounts",
             "batched",
             "mounts",
             "lower bound",
             "batched/bound",
             "FIFO/batched",
             "wall FIFO/batch");
  for (const auto n : sizes) {
    Bench bench(dir, n, fill, cartridges, drives, object_size);
    bench.migrate_all();
    Row row;
    row.objects = n;
    row.fifo = bench.recall(bench.requests(), 1);
    bench.migrate_requests();
    row.batched = bench.recall(bench.requests(), batch_size);
    row.bound = bench.lower_bound();
    const double fifo = row.fifo.cost.drive_seconds();
    const double batched = row.batched.cost.drive_seconds();
    fmt::print("{:>7}  {:>12.0f} {:>7}  {:>12.0f} {:>7}  {:>12.0f}  {:>12.3f}x  {:>11.1f}x  "
               "{:>7.2f}/{:.2f} s\n",
               n,
               fifo,
               row.fifo.cost.mounts,
               batched,
               row.batched.cost.mounts,
               row.bound,
               batched / row.bound,
               fifo / batched,
               row.fifo.wall_seconds,
               row.batched.wall_seconds);
  }
  return 0;
}
