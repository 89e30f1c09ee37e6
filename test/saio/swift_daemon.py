#!/usr/bin/python3
"""Runs one of Swift's own object daemons once against a test cluster.

    swift_daemon.py --dir DIR --node N auditor [--zero-byte-fps N]
    swift_daemon.py --dir DIR --node N replicator [--rsync-module URL]

As `swift-object-auditor <conf> once` and `swift-object-replicator <conf>
once` would on node N, with the node's object-server.conf, except that
Swift is pointed at DIR's swift.conf instead of /etc/swift/swift.conf (which
stock scripts hard-code) and hlm's Swift glue (python/hlm_swift, which the
cluster's storage policies name as their DiskFile module) is importable, as
the .deb installs it. The daemon logs to stderr. The cluster's replicators
use ssync; --rsync-module makes this run use rsync instead, with Swift's
rsync_module setting (e.g. rsync://127.0.0.1:PORT/object{replication_port}
for an rsync daemon the caller runs).

Run with /usr/bin/python3 (Debian's Swift modules live there).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import saio  # noqa: E402  (puts python/hlm_swift on sys.path)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--dir', required=True)
    p.add_argument('--node', type=int, required=True)
    p.add_argument('daemon', choices=('auditor', 'replicator'))
    p.add_argument('--zero-byte-fps', type=int, default=0,
                   help='auditor: the zero-byte pass only, at N files/s')
    p.add_argument('--rsync-module',
                   help='replicator: sync with rsync to this rsync_module')
    args = p.parse_args()

    root = os.path.abspath(args.dir)
    try:  # a multi-host cluster (start --hosts-json) records its layout
        with open(os.path.join(root, 'run', 'layout.json')) as f:
            saved = json.load(f)
        layout = saio.Layout(root, saved['base_port'], saved['hosts'])
    except FileNotFoundError:
        layout = saio.Layout(root)  # paths only: the ports do not matter
    saio.use_swift_conf(layout.etc)
    conf_file = layout.server_conf('object', args.node)

    if args.rsync_module:
        import configparser
        import tempfile
        conf = configparser.ConfigParser(interpolation=None)
        conf.read(conf_file)
        conf['object-replicator']['sync_method'] = 'rsync'
        conf['object-replicator']['rsync_module'] = args.rsync_module
        fd, conf_file = tempfile.mkstemp(prefix='object-server-rsync.',
                                         suffix='.conf')
        with os.fdopen(fd, 'w') as f:
            conf.write(f)

    from swift.common.daemon import run_daemon
    try:
        if args.daemon == 'auditor':
            from swift.obj.auditor import ObjectAuditor
            kwargs = {}
            if args.zero_byte_fps:
                kwargs['zero_byte_fps'] = args.zero_byte_fps
            run_daemon(ObjectAuditor, conf_file, once=True, verbose=True,
                       **kwargs)
        else:
            from swift.obj.replicator import ObjectReplicator
            run_daemon(ObjectReplicator, conf_file, once=True, verbose=True)
    finally:
        if args.rsync_module:
            os.unlink(conf_file)


if __name__ == '__main__':
    main()
