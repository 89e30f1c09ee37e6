#pragma once

#include <hlm/connector/connector.hpp>

#include <memory>

namespace hlm::connector::ltfsdm {

// The `ltfsdm` connector: LTFS Data Management (the seed's
// swifthlm/ltfsdm_connector.py backend) through its command line, run with
// an argv and never through a shell:
//
//   ltfsdm migrate [-p] -f LIST -P POOLS   migrate (or premigrate)
//   ltfsdm recall [-r] -f LIST             recall to premigrated (resident)
//   ltfsdm info files -f LIST              the state of each file
//
// LIST is a private file (0600, in `connector_tmp_dir`, removed after the
// call) with one path per line; a path containing a newline cannot be
// listed, so that item fails alone. After migrate or recall the connector
// asks `info files` for every file's state and judges each file by it, not
// by ltfsdm's exit status alone (ltfsdm exits 0 when it cannot reach its
// server). Files are matched by canonical path, as ltfsdm prints them, and
// listed once each: items naming one file (twice, or through a symbolic
// link) share its outcome.
//
// Settings (section [hlm:ltfsdm]): `ltfsdm_path` (/usr/local/bin/ltfsdm),
// `tape_storage_pool` (required; up to three pools, comma-separated),
// `connector_tmp_dir` (/tmp/hlm-ltfsdm; created 0700, and refused when
// others may write to it), `migrate_mode` (migrate | premigrate),
// `recall_mode` (premigrated | resident) and `timeout` (seconds per ltfsdm
// run, default 3600). Throws hlm::ConfigError for bad settings, and
// hlm::Error from a call when the file list cannot be written; ltfsdm
// missing, failing or hanging fails the affected objects instead.
//
// The unit tests run against a stand-in, test/ltfsdm/ltfsdm, that
// reproduces the real command's argv parsing, messages, exit statuses and
// `info files` output (see info_files.cpp for where that format is from).
std::unique_ptr<Connector> create(Settings& settings);

} // namespace hlm::connector::ltfsdm
