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
  reported as not found instead, so its tape copy stays reachable.
* ``yield_hashes()`` (what ssync offers to a peer) leaves stubs of a
  primary partition out, so ssync never sends a stub's (missing) bytes.
  On a handoff partition it fails the sync instead (ReplicationException):
  Swift deletes a handoff partition after a successful sync whatever was
  sent, so one holding a stub is kept and logged at every pass.
* rsync replication is not covered: rsync copies whole suffix directories
  by itself and would copy a stub's zeros (hlm-handler(8) says to use
  ``sync_method = ssync`` on nodes that hold migrated replicas).

Erasure-coded policies are not covered: hlm migrates replicated policies.
"""

import time

from swift.common.exceptions import DiskFileNotExist, ReplicationException
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
        try:
            offline = (data_file.endswith('.data') and
                       not replica.path_on_disk(data_file))
        except OSError:
            offline = False
        if offline:
            self._logger.error(
                'hlm: not quarantining %s, a tape stub (no data on disk): %s',
                data_file, msg)
            return ReplicaOffline(msg)
        return super(DiskFile, self)._quarantine(data_file, msg)


class DiskFileManager(swift_diskfile.DiskFileManager):
    diskfile_cls = DiskFile

    def __init__(self, conf, logger):
        super(DiskFileManager, self).__init__(conf, logger)
        self.offline_not_read = 0
        self.conf = conf
        self.recon_cache_path = conf.get('recon_cache_path',
                                         '/var/cache/swift')

    def yield_hashes(self, device, partition, policy, suffixes=None,
                     **kwargs):
        dev_path = self.get_dev_path(device)
        part_path = swift_diskfile.get_part_path(dev_path, policy, partition)
        primary = None  # decided at the first stub
        for object_hash, timestamps in super(DiskFileManager, self).yield_hashes(
                device, partition, policy, suffixes, **kwargs):
            ts = timestamps.get('ts_data')
            if ts is not None:
                data_file = '%s/%s/%s/%s.data' % (
                    part_path, object_hash[-3:], object_hash, ts.internal)
                try:
                    offline = not replica.path_on_disk(data_file)
                except OSError:
                    offline = False  # a tombstone, or gone: Swift decides
                if offline:
                    if primary is None:
                        primary = self._is_primary(device, partition, policy)
                    if not primary:
                        # Swift deletes a handoff partition once every sync
                        # of it succeeded, whatever was sent: fail this one.
                        raise ReplicationException(
                            'hlm: handoff partition %s holds tape stub %s; '
                            'kept here (recall it, or move it to a primary '
                            'by hand)' % (part_path, data_file))
                    self.logger.debug('hlm: not replicating tape stub %s',
                                      data_file)
                    continue
            yield object_hash, timestamps

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
