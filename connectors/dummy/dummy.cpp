#include <connectors/common/sqlite.hpp>
#include <connectors/dummy/dummy.hpp>

#include <algorithm>
#include <numeric>
#include <string>

namespace hlm::connector::dummy {

namespace {

using sqlite::Database;
using sqlite::ReadTransaction;
using sqlite::Statement;
using sqlite::Transaction;

constexpr std::string_view k_default_db_path = "/var/lib/hlm/dummy.sqlite";

// Several handlers (one per object server) may share one database.
//
// The objects are kept in their primary key's B-tree (WITHOUT ROWID): a
// lookup by file then reads one B-tree, not the key's index and then the
// table, and lookups in file order (status) read neighbouring pages. A
// database created before keeps its rowid table, which works the same,
// only slower.
void
create_tables(Database& db)
{
  db.exec("CREATE TABLE IF NOT EXISTS objects ("
          " file TEXT PRIMARY KEY,"
          " object TEXT NOT NULL,"
          " state TEXT NOT NULL CHECK (state IN ('resident','premigrated','migrated')))"
          " WITHOUT ROWID");
  // Every migrate and recall applied, in order: the record operators and
  // tests read to see what the backend was asked to do, and how often.
  db.exec("CREATE TABLE IF NOT EXISTS operations ("
          " id INTEGER PRIMARY KEY AUTOINCREMENT,"
          " file TEXT NOT NULL,"
          " object TEXT NOT NULL,"
          " operation TEXT NOT NULL,"
          " state TEXT NOT NULL,"
          " at REAL NOT NULL DEFAULT (julianday('now')))");
}

class DummyConnector final : public Connector
{
public:
  explicit DummyConnector(std::string db_path)
    : m_db("dummy connector", std::move(db_path))
  {
    create_tables(m_db);
    Statement cache(m_db, "PRAGMA cache_size");
    if (cache.step()) {
      m_write_cache = m_cache = static_cast<int>(cache.column_int(0));
    }
  }

private:
  std::vector<Outcome>
  apply(Operation operation, std::span<const Item> items) override
  {
    switch (operation) {
    case Operation::migrate:
      return transition(operation, items, [](ObjectState) { return ObjectState::migrated; });
    case Operation::recall:
      return transition(operation, items, [](ObjectState state) {
        return state == ObjectState::migrated ? ObjectState::premigrated : state;
      });
    case Operation::status:
      break;
    }
    return status(items);
  }

  // One read transaction and one statement for the batch: sqlite takes
  // its lock (and checks the journal and the file header) once per call,
  // not once per item. The items are looked up in file order (in_file_order).
  std::vector<Outcome>
  status(std::span<const Item> items)
  {
    std::vector<Outcome> outcomes(items.size());
    set_cache(k_read_cache);
    ReadTransaction transaction(m_db);
    {
      Statement select(m_db, "SELECT state FROM objects WHERE file = ?1");
      for (const auto i : in_file_order(items)) {
        outcomes[i] = {lookup(select, items[i].file), std::nullopt};
      }
    }
    transaction.commit();
    return outcomes;
  }

  // The items' indexes in file order, the index's: consecutive lookups and
  // writes then share the B-tree's pages in sqlite's page cache, where in
  // the batch's order (the listing's, random over the index) nearly every
  // lookup reads a page from the file, and a write batch dirties (and
  // journals) a page per item.
  static std::vector<std::size_t>
  in_file_order(std::span<const Item> items)
  {
    std::vector<std::size_t> order(items.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return items[a].file < items[b].file;
    });
    return order;
  }

  ObjectState
  lookup(Statement& select, std::string_view file)
  {
    select.reset();
    select.bind(1, file);
    if (!select.step()) {
      return ObjectState::resident;
    }
    return parse_object_state(select.column_text(0)).value_or(ObjectState::unknown);
  }

  // One transaction per batch: a failure leaves the database as it was, so
  // a batch is either applied or reported as not done.
  template<typename Next>
  std::vector<Outcome>
  transition(Operation operation, std::span<const Item> items, Next next)
  {
    std::vector<Outcome> outcomes(items.size());
    set_cache(m_write_cache);
    Transaction transaction(m_db);
    {
      Statement select(m_db, "SELECT state FROM objects WHERE file = ?1");
      Statement upsert(m_db,
                       "INSERT INTO objects (file, object, state) VALUES (?1, ?2, ?3)"
                       " ON CONFLICT (file) DO UPDATE SET object = ?2, state = ?3");
      Statement record(m_db,
                       "INSERT INTO operations (file, object, operation, state)"
                       " VALUES (?1, ?2, ?3, ?4)");
      // The record keeps the batch's order, as the operations came.
      for (const auto i : in_file_order(items)) {
        const auto& item = items[i];
        const ObjectState state = next(lookup(select, item.file));
        upsert.bind(1, item.file);
        upsert.bind(2, item.object);
        upsert.bind(3, to_string(state));
        upsert.run();
        outcomes[i] = {state, std::nullopt};
      }
      for (std::size_t i = 0; i < items.size(); ++i) {
        record.bind(1, items[i].file);
        record.bind(2, items[i].object);
        record.bind(3, to_string(operation));
        record.bind(4, to_string(outcomes[i].state));
        record.run();
      }
    }
    transaction.commit();
    return outcomes;
  }

  // sqlite's page cache, as PRAGMA cache_size takes it (negative: KiB).
  // A status batch reads its lookups in the index's order, so each leaf
  // page is read once whatever the cache holds (the same pread64 calls
  // with 256 KiB as with sqlite's default 2 MB): beyond the B-tree's inner
  // pages a read cache only costs memory. A write batch keeps the
  // default, so that its dirty pages are not spilled to the file before
  // the commit.
  static constexpr int k_read_cache = -256;

  void
  set_cache(int size)
  {
    if (size != m_cache) {
      m_db.exec(("PRAGMA cache_size = " + std::to_string(size)).c_str());
      m_cache = size;
    }
  }

  Database m_db;
  int m_write_cache = -2000; // sqlite's default, as the database opened
  int m_cache = m_write_cache;
};

} // namespace

std::unique_ptr<Connector>
create(Settings& settings)
{
  return std::make_unique<DummyConnector>(settings.take_or("db_path", k_default_db_path));
}

} // namespace hlm::connector::dummy
