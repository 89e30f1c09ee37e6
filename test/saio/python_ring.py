#!/usr/bin/python3
"""Reference ring lookups with Swift's own Python code.

    python_ring.py --swift-dir DIR --ring NAME < names.jsonl > out.jsonl
    python_ring.py --swift-dir DIR --ring NAME --bench N < names.jsonl

NAME is account, container, object or object-1 (DIR/NAME.ring.gz).  Each
input line is a JSON array [account, container_or_null, object_or_null];
each output line is
    {"partition": p, "hash": hexdigest, "nodes": [device ids in order],
     "devices": [[ip, port, device], ...]}
from Ring.get_nodes() and hash_path(), with the hash prefix/suffix taken
from DIR/swift.conf (not /etc/swift/swift.conf).

--bench N times N get_nodes() calls cycling over the input names and prints
{"lookups": N, "seconds": s, "per_second": r} instead.
"""

import argparse
import json
import os
import sys
import time


def read_names(stream):
    names = []
    for lineno, line in enumerate(stream, 1):
        if not line.strip():
            continue
        name = json.loads(line)
        if not (isinstance(name, list) and len(name) == 3 and name[0]):
            sys.exit('line %d: expected [account, container|null, '
                     'object|null], got %s' % (lineno, line.strip()))
        if name[2] is not None and name[1] is None:
            sys.exit('line %d: an object needs a container' % lineno)
        names.append(tuple(name))
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--swift-dir', required=True,
                        help='directory with swift.conf and the rings')
    parser.add_argument('--ring', required=True,
                        help='ring name: account, container, object, '
                             'object-1, ...')
    parser.add_argument('--bench', type=int, metavar='N',
                        help='time N lookups instead of printing them')
    args = parser.parse_args()
    swift_dir = os.path.abspath(args.swift_dir)

    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    from saio import use_swift_conf
    use_swift_conf(swift_dir)
    from swift.common.ring import Ring
    from swift.common.utils import hash_path
    ring = Ring(swift_dir, ring_name=args.ring)
    names = read_names(sys.stdin)

    if args.bench is not None:
        if not names:
            sys.exit('--bench needs at least one input name')
        count = len(names)
        start = time.perf_counter()
        for i in range(args.bench):
            ring.get_nodes(*names[i % count])
        seconds = time.perf_counter() - start
        json.dump({'lookups': args.bench, 'seconds': seconds,
                   'per_second': args.bench / seconds if seconds else None},
                  sys.stdout)
        sys.stdout.write('\n')
        return

    out = sys.stdout
    for name in names:
        part, nodes = ring.get_nodes(*name)
        out.write(json.dumps({
            'partition': part,
            'hash': hash_path(*name),
            'nodes': [n['id'] for n in nodes],
            'devices': [[n['ip'], n['port'], n['device']] for n in nodes],
        }) + '\n')


if __name__ == '__main__':
    main()
