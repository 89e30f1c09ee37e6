"""Guarded reads: an object server never serves a tape stub's bytes.

A filter in the object server's pipeline (hlm-handler(8) gives the lines)::

    [pipeline:main]
    pipeline = healthcheck recon hlm_guard object-server

    [filter:hlm_guard]
    use = egg:hlm_swift#guard

For a GET or HEAD of an object it opens the replica the object server would
serve, as Swift's DiskFile does, and asks hlm_swift.replica whether its data
is on disk:

* offline (a tape stub), GET: answers 412 with SwiftHLM's message ("Object
  /a/c/o needs to be RECALL-ed before it can be accessed.") and
  ``X-HLM-State: migrated``, without reading the file. The proxy takes a
  412 from an object server as "this replica cannot serve" and tries the
  next one, so a GET is served by any replica whose data is on disk, and
  the client gets the 412 only when none is.
* offline, HEAD: passed to the object server (the metadata is in xattrs on
  disk); the answer carries ``X-HLM-State: migrated``.
* on disk: passed on; a successful answer carries ``X-HLM-State: on-disk``
  and, when the replica records a restore expiry (hlm_swift.replica), as
  S3's ``x-amz-restore`` does (one line)::

      X-HLM-Restore: ongoing-request="false",
                     expiry-date="Fri, 11 Dec 2026 00:00:00 GMT"

  An invalid expiry leaves the header out and is logged as a warning; the
  read is served all the same.
* anything else (no such object, a device that is not mounted, a path that
  is not an object's): passed on untouched, the object server answers.

It reads nothing but the directory listing, the metadata xattrs and the
file's extent map, changes nothing, and asks no backend. The race with a
release while the object server streams a replica is closed by
hlm_swift.diskfile's reader, which checks each chunk it reads.
"""

from email.utils import formatdate

from swift.common.exceptions import DiskFileDeviceUnavailable, DiskFileError
from swift.common.request_helpers import get_name_and_placement
from swift.common.swob import HTTPException, HTTPPreconditionFailed, Request
from swift.common.utils import get_logger
from swift.obj.diskfile import DiskFileRouter

from hlm_swift import replica
from hlm_swift.diskfile import ReplicaOffline

STATE_HEADER = 'X-HLM-State'
MIGRATED = 'migrated'
ON_DISK = 'on-disk'
RESTORE_HEADER = 'X-HLM-Restore'


def recall_message(account, container, obj):
    """SwiftHLM's answer to a GET of a migrated object."""
    return 'Object /%s/%s/%s needs to be RECALL-ed before it can be accessed.' \
        % (account, container, obj)


def restore_value(expiry):
    """The X-HLM-Restore value of a restore that expires at `expiry` (Unix
    seconds)."""
    return 'ongoing-request="false", expiry-date="%s"' \
        % formatdate(expiry, usegmt=True)


class GuardMiddleware(object):
    def __init__(self, app, conf):
        self.app = app
        self.logger = get_logger(conf, log_route='hlm-guard')
        self.router = DiskFileRouter(conf, self.logger)

    def replica_state(self, device, partition, account, container, obj,
                      policy):
        """(state, error, expiry): (ON_DISK, None, restore expiry or None),
        (MIGRATED, None, None), (MIGRATED, error, None) for a stub whose
        metadata cannot be read, or (None, None, None) when the object
        server should answer by itself."""
        expiry = None
        try:
            df = self.router[policy].get_diskfile(
                device, partition, account, container, obj, policy=policy)
            with df.open():
                fd = df._fp.fileno()
                on_disk = replica.on_disk(fd)
                if on_disk:
                    expiry = self.restore_expiry(fd, df._data_file)
        except ReplicaOffline as e:
            # hlm_swift.diskfile refused to quarantine a stub it could not
            # open (corrupt or unreadable metadata).
            return MIGRATED, str(e), None
        except (DiskFileDeviceUnavailable, DiskFileError, OSError):
            return None, None, None
        return (ON_DISK, None, expiry) if on_disk else (MIGRATED, None, None)

    def restore_expiry(self, fd, path):
        """replica.restore_expiry(fd), or None with a warning when the
        attribute is invalid or unreadable: it never fails the read."""
        try:
            return replica.restore_expiry(fd)
        except (ValueError, OSError) as e:
            self.logger.warning('%s: no %s header: %s',
                                path, RESTORE_HEADER, e)
            return None

    def __call__(self, env, start_response):
        method = env.get('REQUEST_METHOD')
        if method not in ('GET', 'HEAD'):
            return self.app(env, start_response)
        req = Request(env)
        try:
            device, partition, account, container, obj, policy = \
                get_name_and_placement(req, 5, 5, True)
        except HTTPException:
            return self.app(env, start_response)
        state, error, expiry = self.replica_state(
            device, partition, account, container, obj, policy)
        if state is None:
            return self.app(env, start_response)
        if state == MIGRATED and (method == 'GET' or error):
            body = recall_message(account, container, obj)
            if error:
                body += ' Its metadata on this node cannot be read: %s' % error
            return HTTPPreconditionFailed(
                request=req, body=body.encode('utf-8') + b'\n',
                content_type='text/plain',
                headers={STATE_HEADER: state})(env, start_response)

        def add_state(status, headers, exc_info=None):
            if status.startswith('2'):
                headers.append((STATE_HEADER, state))
                if expiry is not None:
                    headers.append((RESTORE_HEADER, restore_value(expiry)))
            return start_response(status, headers, exc_info)
        return self.app(env, add_state)


def filter_factory(global_conf, **local_conf):
    conf = global_conf.copy()
    conf.update(local_conf)

    def guard_filter(app):
        return GuardMiddleware(app, conf)
    return guard_filter
