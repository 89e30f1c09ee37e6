"""Swift's replicated DiskFile, with tape stubs left alone.

A storage policy names this module in swift.conf::

    [storage-policy:0]
    diskfile_module = egg:hlm_swift#replication.fs

and then the object server, the object auditor and the object replicator
(ssync) all get their DiskFile from here. It differs from Swift's own
``egg:swift#replication.fs`` only where a replica is offline (a tape stub,
as hlm_swift.replica defines it):

* ``DiskFile.reader()`` of an offline replica raises ReplicaOffline, a
  DiskFileNotExist: the auditor's full pass passes it without reading it
  (reading would return zeros and quarantine the replica, or recall it from
  tape) and the count of such replicas is logged at the end of each pass and
  kept in the recon cache (``object.recon``, key ``hlm_audit_offline``,
  then ``ALL`` or ``ZBF``, then ``policy-N``: ``not_read`` and ``time``).
  An object server asked for its bytes answers 404, so the proxy tries the
  next replica (hlm_swift.guard answers 412 before that point).
* Each chunk read is checked to have come from a range without holes, so a
  replica released while it is being read ends the read with
  ReplicaOffline instead of sending zeros; zero-copy (splice) sends, which
  could not be checked, are off.
* ``DiskFile._quarantine()`` refuses to quarantine an offline replica
  (corrupt metadata on a stub, say): the error is logged and the replica is
  reported as not found instead, so its tape copy stays reachable; the
  auditor's count of replicas not read includes it.
* Replication never moves a stub (a lost replica is rebuilt from tape by
  ``hlmctl recall``, not from another node's stub): suffix hashes leave
  stubs out, so two nodes that differ only in stubs agree and rsync is not
  started for them; ``yield_hashes()``, what ssync offers a peer, leaves
  them out too. A handoff partition that holds a stub is not synced at all
  (``partition_lock()`` raises ReplicationException, logged at every pass):
  Swift deletes a handoff partition after its syncs succeed, whatever they
  sent, and rsync would send zeros.

Erasure-coded policies are not covered: hlm migrates replicated policies.
"""

import glob
import os
import threading
import time

from swift.common.exceptions import (DiskFileNotExist, PathNotDir,
                                     ReplicationException)
from swift.common.utils import dump_recon_cache, whataremyips
from swift.obj import diskfile as swift_diskfile

from hlm_swift import replica

RECON_KEY = 'hlm_audit_offline'


class ReplicaOffline(DiskFileNotExist):
    """The replica's data is not on this disk (a tape stub)."""


class DiskFileReader(swift_diskfile.DiskFileReader):
    def can_zero_copy_send(self):
        return False  # every chunk is checked in _update_checks

    def _update_checks(self, chunk):
        end = self._fp.tell()
        if not replica.on_disk(self._fp.fileno(), end - len(chunk), end):
            raise ReplicaOffline(
                'hlm: %s was released from disk while being read' %
                self._data_file)
        super(DiskFileReader, self)._update_checks(chunk)


class DiskFile(swift_diskfile.DiskFile):
    reader_cls = DiskFileReader

    def reader(self, keep_cache=False, _quarantine_hook=lambda m: None):
        if self._fp is not None and not replica.on_disk(self._fp.fileno()):
            self.manager.offline_not_read += 1
            raise ReplicaOffline(
                'hlm: %s is migrated (no data on disk); not read' %
                self._data_file)
        return super(DiskFile, self).reader(
            keep_cache=keep_cache, _quarantine_hook=_quarantine_hook)

    def _quarantine(self, data_file, msg):
        if _is_stub(data_file):
            self.manager.offline_not_read += 1
            self._logger.error(
                'hlm: not quarantining %s, a tape stub (no data on disk): %s',
                data_file, msg)
            return ReplicaOffline(msg)
        return super(DiskFile, self)._quarantine(data_file, msg)


class DiskFileManager(swift_diskfile.DiskFileManager):
    diskfile_cls = DiskFile

    def __init__(self, conf, logger):
        super(DiskFileManager, self).__init__(conf, logger)
        self.conf = conf
        self.offline_not_read = 0
        self.recon_cache_path = conf.get('recon_cache_path',
                                         '/var/cache/swift')
        self._hashing = threading.local()

    # -- replication: a stub is invisible to suffix hashes and ssync -------

    def _hash_suffix_dir(self, path, policy):
        # While a suffix is hashed, a stub's object directory counts as
        # absent, and a suffix of stubs only as no suffix: two nodes that
        # differ only in stubs agree, so rsync is never started for them (it
        # would copy a stub's zeros, or recall it from tape, onto a node
        # that lost the replica).
        state = self._hashing
        state.active, state.kept, state.hidden = True, 0, 0
        try:
            hashes = super(DiskFileManager, self)._hash_suffix_dir(
                path, policy)
        finally:
            state.active = False
        if state.hidden and not state.kept:
            raise PathNotDir()
        return hashes

    def cleanup_ondisk_files(self, hsh_path, **kwargs):
        info = super(DiskFileManager, self).cleanup_ondisk_files(
            hsh_path, **kwargs)
        state = self._hashing
        if getattr(state, 'active', False) and info.get('files'):
            if _is_stub(info.get('data_file')):
                state.hidden += 1
                info = dict(info, files=[])
            else:
                state.kept += 1
        return info

    def yield_hashes(self, device, partition, policy, suffixes=None,
                     **kwargs):
        # What ssync offers to a peer: never a stub, whose bytes are not here.
        for object_hash, timestamps in super(DiskFileManager, self).yield_hashes(
                device, partition, policy, suffixes, **kwargs):
            ts = timestamps.get('ts_data')
            if ts is not None:
                data_file = os.path.join(
                    swift_diskfile.get_part_path(
                        self.get_dev_path(device), policy, partition),
                    object_hash[-3:], object_hash, ts.internal + '.data')
                if _is_stub(data_file):
                    self.logger.debug('hlm: not replicating tape stub %s',
                                      data_file)
                    continue
            yield object_hash, timestamps

    def partition_lock(self, device, policy, partition, name=None,
                       timeout=None):
        # The replicator takes this lock before it syncs a handoff partition
        # and then deletes the partition once every sync succeeded, whatever
        # was sent (rsync copies a stub's zeros; ssync skips it). A handoff
        # partition that holds a stub is therefore not synced at all.
        if name == 'replication' and \
                not self._is_primary(device, partition, policy):
            stub = self._first_stub(device, partition, policy)
            if stub:
                raise ReplicationException(
                    'hlm: handoff partition %s holds tape stub %s; kept here '
                    '(recall the object, or move the stub to a primary by '
                    'hand)' % (os.path.dirname(os.path.dirname(
                        os.path.dirname(stub))), stub))
        return super(DiskFileManager, self).partition_lock(
            device, policy, partition, name=name, timeout=timeout)

    def _first_stub(self, device, partition, policy):
        part_path = swift_diskfile.get_part_path(
            self.get_dev_path(device), policy, partition)
        for data_file in glob.iglob(os.path.join(part_path, '*', '*', '*.data')):
            if _is_stub(data_file):
                return data_file
        return None

    def _is_primary(self, device, partition, policy):
        """Whether this node's `device` is a primary of `partition`, as the
        replicator tells its own devices (ring device name, replication IP
        among this host's, replication port = bind_port); False when the ring
        is not loaded."""
        ring = getattr(policy, 'object_ring', None)
        if ring is None:
            return False
        ips = whataremyips(self.conf.get('bind_ip', '0.0.0.0'))
        port = int(self.conf.get('bind_port', 6200))
        return any(node['device'] == device and
                   node.get('replication_ip', node['ip']) in ips and
                   node.get('replication_port', node['port']) == port
                   for node in ring.get_part_nodes(int(partition)))

    # -- the auditor: count what a pass did not read ----------------------

    def object_audit_location_generator(self, policy, device_dirs=None,
                                        auditor_type='ALL'):
        before = self.offline_not_read
        for location in super(DiskFileManager, self) \
                .object_audit_location_generator(policy, device_dirs,
                                                 auditor_type):
            yield location
        count = self.offline_not_read - before
        self.logger.info(
            'hlm: object audit (%s) of policy %d: %d migrated replicas '
            'not read (no data on disk; their tape copies are checked on '
            'recall)', auditor_type, int(policy), count)
        dump_recon_cache(
            {RECON_KEY: {auditor_type: {'policy-%d' % int(policy): {
                'not_read': count, 'time': time.time()}}}},
            '%s/object.recon' % self.recon_cache_path, self.logger)


def _is_stub(data_file):
    """Whether `data_file` (a path or None) is a replica file whose data is
    not on disk; False when it cannot be opened (Swift then decides)."""
    if not data_file or not data_file.endswith('.data'):
        return False
    try:
        return not replica.path_on_disk(data_file)
    except OSError:
        return False
