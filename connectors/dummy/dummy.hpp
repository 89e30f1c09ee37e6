#pragma once

#include <hlm/connector/connector.hpp>

#include <memory>

namespace hlm::connector::dummy {

// The `dummy` connector: keeps only a state per file path in sqlite, as the
// seed's reference connector did. Unknown files are resident; migrate makes
// them migrated; recall of a migrated file makes it premigrated. Data never
// moves. Every migrate and recall is also appended to table `operations`
// (file, object, operation, resulting state, time). Settings: `db_path`
// (default /var/lib/hlm/dummy.sqlite).
std::unique_ptr<Connector> create(Settings& settings);

} // namespace hlm::connector::dummy
