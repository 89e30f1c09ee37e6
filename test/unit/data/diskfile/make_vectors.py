#!/usr/bin/python3
"""Regenerate the pickle fixtures used by test_pickle.cpp and
test_metadata.cpp: <name>.pickle files and MD5SUMS (md5sum format, so
`md5sum -c MD5SUMS` checks them) in the directory of this script.

Run with Debian's /usr/bin/python3 (it has Swift 2.30 installed); py2.pickle
needs a Python 2.7 interpreter, given as the first argument (for example
~/.pyenv/versions/2.7.18/bin/python). Without it py2.pickle is left as is.

The .data, .ts and .meta vectors come from Swift's own object server (an
in-process ObjectController writing to a scratch devices directory), so they
are byte for byte what a Swift 2.30 storage node stores in the
user.swift.metadata xattr.
"""
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import quote

from swift.common.swob import Request
from swift.common.utils import get_logger
from swift.obj import server as object_server
from swift.obj.diskfile import _encode_metadata, PICKLE_PROTOCOL


HERE = os.path.dirname(os.path.abspath(__file__))


def emit(name, data, comment):
    with open(os.path.join(HERE, name + '.pickle'), 'wb') as f:
        f.write(data)
    print('%-14s %6d bytes  %s' % (name, len(data), comment))


def swift_vectors():
    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, 'sda1'))
    ctl = object_server.ObjectController(
        {'devices': root, 'mount_check': 'false'},
        logger=get_logger({}, log_route='vectors'))
    # A WSGI string holds the UTF-8 bytes as latin-1 code points.
    wsgi = '/AUTH_test/c/\u00e9t\u00e9 \u2603'.encode('utf8').decode('latin1')
    path = '/sda1/917' + quote(wsgi.encode('latin1'))

    def do(method, ts, headers, body=None):
        h = {'X-Timestamp': ts}
        h.update(headers)
        resp = Request.blank(path, environ={'REQUEST_METHOD': method},
                             headers=h, body=body).get_response(ctl)
        assert resp.status_int < 300, resp.status

    def xattr_of(ext):
        for dp, _, files in os.walk(root):
            for f in files:
                if f.endswith(ext):
                    return os.getxattr(os.path.join(dp, f),
                                       'user.swift.metadata'), f
        raise RuntimeError(ext)

    meta_unicode = '\u00e9\u2603'.encode('utf8').decode('latin1')
    do('PUT', '1795332046.73390',
       {'Content-Type': 'text/plain', 'Content-Length': '3',
        'X-Object-Meta-Color': 'blue',
        'X-Object-Meta-Unicode': meta_unicode,
        'X-Object-Meta-Empty': ''}, b'abc')
    data, _ = xattr_of('.data')
    do('POST', '1795332047.00000',
       {'Content-Type': 'application/x-test', 'X-Object-Meta-Color': 'red'})
    meta, meta_name = xattr_of('.meta')
    do('DELETE', '1795332048.00000', {})
    ts, _ = xattr_of('.ts')
    emit('swift_data', data, 'object-server PUT: .data metadata')
    emit('swift_meta', meta, 'object-server POST: %s metadata' % meta_name)
    emit('swift_ts', ts, 'object-server DELETE: .ts metadata')
    shutil.rmtree(root)


def main():
    swift_vectors()
    shared = _encode_metadata({
        'name': '/AUTH_test/c/o', 'X-Object-Meta-A': '',
        'X-Object-Meta-B': '', 'X-Object-Meta-C': '7',
        'X-Object-Meta-D': '7'})
    emit('shared_values', pickle.dumps(shared, PICKLE_PROTOCOL),
         'b"" and one-byte values are shared objects: BINGET of a REDUCE')
    emit('single_item', pickle.dumps({b'k': b'v'}, PICKLE_PROTOCOL),
         'one-item dict: SETITEM instead of MARK ... SETITEMS')
    many = {'name': '/AUTH_test/c/many'}
    for i in range(45):
        many['X-Object-Meta-M%02d' % i] = 'v%02d' % i
    emit('many', pickle.dumps(_encode_metadata(many), PICKLE_PROTOCOL),
         '45 user headers: more than 256 memo entries, LONG_BINPUT')
    emit('protocol1', pickle.dumps({b'k': b'v', b'e': b''}, 1),
         'protocol 1: no PROTO, MARK ... TUPLE')
    emit('protocol4', pickle.dumps({
        b'name': b'/AUTH_test/c/\xc3\xa9', b'X-Object-Meta-Long': b'z' * 300,
        b'X-Object-Meta-Empty': b'', b'a': b'', b'b': b'1', b'c': b'1'}, 4),
        'protocol 4: FRAME, MEMOIZE, SHORT_BINBYTES, BINBYTES')

    class Evil(object):
        def __reduce__(self):
            return (os.system, ('true',))
    emit('os_system', pickle.dumps({b'k': Evil()}, PICKLE_PROTOCOL),
         'hostile: value is os.system("true")')

    big = pickle.dumps(_encode_metadata(
        {'name': '/AUTH_test/c/big', 'X-Timestamp': '1795332046.73390',
         'X-Object-Meta-Big': 'x' * 70000}),
        PICKLE_PROTOCOL)
    emit('big', big, 'a 70,000-byte value (more than one xattr chunk)')

    if len(sys.argv) > 1:
        py2 = subprocess.check_output([sys.argv[1], '-c', r'''
import pickle, sys
d = {'name': '/AUTH_test/c/\xc3\xa9t\xc3\xa9',
     'X-Timestamp': '1402464677.04188', 'Content-Length': '0',
     'ETag': 'd41d8cd98f00b204e9800998ecf8427e',
     'X-Object-Meta-Long': 'y' * 300, 'X-Object-Meta-Uni': u'\xe9\u2603',
     'X-Object-Meta-Empty': ''}
sys.stdout.write(pickle.dumps(d, 2).encode('hex'))
'''])
        emit('py2', bytes.fromhex(py2.decode()),
             'Python 2.7 pickle protocol 2: SHORT_BINSTRING, BINSTRING, '
             'a unicode value')

    with open(os.path.join(HERE, 'MD5SUMS'), 'w') as f:
        for name in sorted(os.listdir(HERE)):
            if name.endswith('.pickle'):
                with open(os.path.join(HERE, name), 'rb') as p:
                    f.write('%s  %s\n' % (hashlib.md5(p.read()).hexdigest(),
                                           name))


if __name__ == '__main__':
    main()
