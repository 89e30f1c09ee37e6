#!/usr/bin/python3
"""Regenerate the hand-written seed corpora in corpus/<target>/: a few
valid inputs and edge cases per fuzz target. Crash inputs found by fuzzing
are added by hand as crash-<what> and are not touched here.

Run with Debian's /usr/bin/python3 (Swift 2.30 is installed there): the ring
seeds are built by Swift's own RingBuilder, so they are byte for byte what
swift-ring-builder writes (ring.gz) and its decompressed form (ring.raw).
"""
import gzip
import io
import os
import pickle
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def emit(target, name, data):
    directory = os.path.join(HERE, 'corpus', target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('utf8')
    with open(os.path.join(directory, name), 'wb') as f:
        f.write(data)


def queue_entry():
    t = '20240102030405.678'
    emit('queue_entry', 'object', '/%s/migrate/AUTH_test/c/0/dir/obj' % t)
    emit('queue_entry', 'container', '/%s/recall/AUTH_test/c/12' % t)
    emit('queue_entry', 'utf8', '/%s/recall/AUTH_\u00e9/c/1/\u00e9t\u00e9 \u2603' % t)
    emit('queue_entry', 'legacy', '%s--migrate--AUTH_test--c--0--o--with--dashes' % t)
    emit('queue_entry', 'legacy_container', '%s--recall--AUTH_test--c--3' % t)
    emit('queue_entry', 'status', '/%s/status/AUTH_test/c/0' % t)
    emit('queue_entry', 'big_policy', '/%s/migrate/a/c/2147483648/o' % t)
    emit('queue_entry', 'reason',
         'application/swifthlm-task; reason=tape%20full%3B%20%C3%A9')
    emit('queue_entry', 'reason_params',
         'application/swifthlm-task;charset=x; reason=100%;x=%FF')


def ring():
    from swift.common.ring import RingBuilder
    builder = RingBuilder(4, 3, 1)
    for i in range(4):
        builder.add_dev({'id': i, 'region': 1, 'zone': i + 1,
                         'ip': '127.0.0.%d' % (i + 1), 'port': 6010 + 10 * i,
                         'device': 'sdb%d' % (i + 1), 'weight': 1.0,
                         'meta': 'm%d' % i})
    builder.rebalance(seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'object.ring.gz')
        builder.get_ring().save(path, mtime=0)
        with open(path, 'rb') as f:
            compressed = f.read()
    emit('ring', 'ring.gz', compressed)
    emit('ring', 'ring.raw', gzip.decompress(compressed))


def handler_request():
    emit('handler_request', 'document',
         '{"request": "migrate", "objects": [{"object": "/AUTH_test/c/o",'
         ' "device": "sdb1"}, {"object": "/AUTH_test/c/d/o2", "device":'
         ' "sdb1"}, {"object": "/a/c/\u00e9"}], "storage_policy_index": 1,'
         ' "swift_dir": "/etc/swift", "unknown": {"x": [1, 2.5, null]}}')
    emit('handler_request', 'document_min', '{"request":"status","objects":[]}')
    emit('handler_request', 'document_nulls',
         '{"objects":[{"object":"/a/c/o","device":null,"x":[{}]}],'
         '"request":"recall","swift_dir":null,"storage_policy_index":null}')
    emit('handler_request', 'lines',
         '/AUTH_test/c/o\r\nAUTH_test/c/dir/o2\n\n  \n/a/c/\u00e9\n')
    emit('handler_request', 'bad_line', '/a/c\n')


def handler_result():
    # As hlm-handler writes it: the start, lines as they come (heartbeat
    # spaces between), the summary.
    emit('handler_result', 'document',
         '{"request":"migrate","version":1,"storage_policy_index":0,'
         '"warnings":["reads of migrated objects on this node are not guarded"],'
         '"objects":[\n{"device":"sdb1","error":null,'
         '"etag":"d41d8cd98f00b204e9800998ecf8427e","file":"/srv/node/sdb1/objects/1/'
         'abc/0123456789abcdef0123456789abcabc/1700000000.00000.data",'
         '"object":"/AUTH_test/c/o","size":0,"status":"migrated"} ,\n'
         '{"device":"sdb2","error":"object is deleted on this device",'
         '"error_kind":"deleted","file":null,"object":"/AUTH_test/c/o",'
         '"status":"unknown","transient":false},\n'
         '{"device":null,"error":"tape \u00e9 full","error_kind":"backend",'
         '"file":null,"object":"/a/c/\u00e9","status":"unknown","transient":true},\n'
         '{"device":"sdb3","error":null,"file":null,"object":"/a/c/s",'
         '"status":"migrated","stub":"missing"}]  ,'
         '"summary":{"objects":4,"ok":2,"failed":2}}\n')
    # Before "version" and "error_kind": the seed's shape.
    emit('handler_result', 'old',
         '{"request":"status","storage_policy_index":0,"objects":[\n'
         '{"device":"sdb1","error":"backend failed: x","file":null,'
         '"object":"/a/c/o","status":"unknown"}],'
         '"summary":{"objects":1,"ok":0,"failed":1}}\n')
    emit('handler_result', 'odd_lines',
         '{"objects":[{"object":"/a/c/o","status":"frozen"},'
         '{"object":"/a/c/o","status":"resident","error":"x","error_kind":"cosmic"},'
         '{"object":"/a/c/o","size":18446744073709551615,"device":5,"x":[[{}]]}]}')
    emit('handler_result', 'version2', '{"version":2,"objects":[]}')
    emit('handler_result', 'stderr',
         'hlm-handler: error: cannot read ring "object.ring.gz": bad magic\n')
    emit('handler_result', 'truncated', '{"request":"recall","version":1,"objects":[\n{"dev')
    emit('handler_result', 'nested', '[' * 70 + ']' * 70)


def exec_protocol():
    emit('exec_protocol', 'ok',
         '{"protocol": "hlm-connector", "version": 1, "objects": ['
         '{"file": "a", "status": "migrated"},'
         ' {"file": "b", "status": "resident", "error": "tape \u00e9 full"}]}')
    emit('exec_protocol', 'repeated',
         '{"version":1,"objects":[{"file":"a","status":"premigrated"},'
         '{"file":"a","status":"bogus"},{"file":"b","error":5}]}\n')
    emit('exec_protocol', 'not_requested', '{"version":1,"objects":[{"file":"c"}]}')
    emit('exec_protocol', 'version2', '{"version":2.0,"objects":[]}')
    emit('exec_protocol', 'overflow', '{"version":1e999}')
    emit('exec_protocol', 'nested', '[' * 70 + ']' * 70)


def pickles():
    # Protocol 2 as Python 3 Swift writes it, protocol 0 (refused), a bare
    # string (refused), and a dict with a memo reference.
    meta = {b'name': b'/a/c/o', b'X-Timestamp': b'1700000000.00000',
            b'Content-Length': b'0', b'ETag': b'd41d8cd98f00b204e9800998ecf8427e'}
    emit('pickle', 'swift_p2', pickle.dumps(meta, protocol=2))
    emit('pickle', 'p0', pickle.dumps(meta, protocol=0))
    emit('pickle', 'str_only', pickle.dumps('x', protocol=2))
    shared = b'same'
    emit('pickle', 'memo', pickle.dumps({'name': shared, 'X-Timestamp': shared,
                                         'k': shared}, protocol=4))
    emit('pickle', 'bad_length', b'\x80\x02}q\x00X\xff\xff\xff\xffx.')


def list_manifest():
    # The first byte says where the reader's input is split.
    header = ('{"account":"AUTH_test","container":"c","format":1,'
              '"operation":"recall","policy":0}\n')
    emit('list_manifest', 'whole', '\x07' + header + '"a"\n"b/c"\n"d\\ne"\n'
         '{"count":3,"end":true}\n')
    emit('list_manifest', 'empty', '\x00' + header + '{"count":0,"end":true}\n')
    emit('list_manifest', 'utf8', '\x20' + header + '"\u00e9t\u00e9"\n"\u2603"\n'
         '{"count":2,"end":true}\n')
    emit('list_manifest', 'cut', '\x03' + header + '"a"\n"b"\n')
    emit('list_manifest', 'unsorted', '\x05' + header + '"b"\n"a"\n{"count":2,"end":true}\n')
    emit('list_manifest', 'progress', '\x00application/x-hlm-list; count=5; done=3; failed=1')


def main():
    list_manifest()
    queue_entry()
    ring()
    handler_request()
    handler_result()
    exec_protocol()
    pickles()


if __name__ == '__main__':
    main()
