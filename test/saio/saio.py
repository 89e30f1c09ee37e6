#!/usr/bin/python3
"""Swift-All-In-One test cluster for hlm's tests.

    saio.py start  --dir DIR [--base-port N] [--hosts-json FILE]
                   [--without-hlm-swift]
    saio.py stop   --dir DIR
    saio.py status --dir DIR
    saio.py start-node --dir DIR --node N


`start` lays out a 4-node Swift cluster on 127.0.0.1 under DIR (configs,
rings, device dirs), starts memcached and 13 Swift servers as daemons, waits
until they answer and tempauth works, then writes DIR/cluster.json and
DIR/env.sh.  Ports: proxy BASE, memcached BASE+1, account BASE+10+N,
container BASE+20+N, object BASE+30+N for nodes N = 1..4.

Stock Swift reads /etc/swift/swift.conf for the hash prefix/suffix and the
storage policies.  Nothing under /etc is touched: Swift is imported once in
this process, pointed at DIR/etc/swift.conf, and every server is forked from
here (which also saves each server the ~0.5 s of eventlet monkey-patching).

With --hosts-json (test/multihost/rig.py writes it), the storage nodes are
separate hosts: FILE is {"user": U, "nodes": [{"node": N, "namespace": NS,
"ip": IP}, ...]}.  Node N's account, container and object servers are
forked into network namespace NS (/run/netns/NS), bind IP (same port
formula), run as user U (who must be able to log in there over ssh and read
the replica files, as the `swift` user does on a real node) and appear in
the rings with IP; the proxy and memcached stay on 127.0.0.1.  The node
count is the file's.  `start-node` starts again the servers of one node
that are no longer running (after a test crashed that host).

Run with /usr/bin/python3 (Debian's Swift modules live there); stdlib only.
"""

import argparse
import ctypes
import http.client
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import sys
import time
import traceback

IP = '127.0.0.1'
DEFAULT_BASE_PORT = 16100
NODES = (1, 2, 3, 4)
PART_POWER = 10
RING_SEED = 20240601        # fixed: the same DIR layout gives the same rings
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 30
MEMCACHED = '/usr/bin/memcached'
# hlm's glue that Swift itself loads (python/hlm_swift): the object servers'
# guard filter and the storage policies' DiskFile module, found by
# pkg_resources through python/hlm_swift.egg-info, as the .deb installs it.
HLM_PYTHON_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    'python')
sys.path.insert(0, HLM_PYTHON_DIR)
# start --without-hlm-swift: stock Swift, for a benchmark's or a test's
# baseline (no guard filter, Swift's own DiskFile).
HLM_SWIFT = True
# start --hlmctl P --hlm-handler P: the proxy answers SwiftHLM's HTTP
# interface (hlm_swift.interface) by running that hlmctl, with an hlm.conf
# (DIR/etc/hlm.conf) that reaches the object servers through that handler.
HLM_TOOLS = None
# start --default-policy N: the policy marked default in swift.conf (a
# container created without X-Storage-Policy gets it).
DEFAULT_POLICY = 0
CLONE_NEWNET = 0x40000000

# (account, user, key, role) for tempauth.
USERS = (
    ('test', 'tester', 'testing', '.admin'),
    ('test2', 'tester2', 'testing2', '.admin'),
    ('admin', 'admin', 'admin', '.reseller_admin'),
)

# (policy index, name, ring name, replicas)
POLICIES = (
    (0, 'gold', 'object', 3),
    (1, 'silver', 'object-1', 2),
)

# Storage server kinds; node N's server listens on base + offset + N.
STORAGE_KINDS = {
    'account': 10,
    'container': 20,
    'object': 30,
}

PROXY_PIPELINE = (
    'catch_errors gatekeeper healthcheck proxy-logging cache listing_formats '
    'bulk tempurl ratelimit tempauth copy container-quotas account-quotas '
    'slo dlo versioned_writes symlink proxy-logging proxy-server')


def proxy_pipeline():
    """PROXY_PIPELINE, with hlm_swift's interface after the auth filter when
    the cluster has hlm's tools."""
    if not HLM_TOOLS:
        return PROXY_PIPELINE
    return PROXY_PIPELINE.replace(' tempauth ', ' tempauth hlm ')


def hlm_conf(layout):
    """The hlm.conf the proxy's hlmctl reads: every ring IP is this host,
    reached with the local transport, one handler call for all nodes."""
    return ('[hlm]\nswift_dir = %s\n[nodes]\nlocal_addresses = %s\n'
            'handler = %s\nobject_server_conf = %s\n'
            % (layout.etc, IP, HLM_TOOLS['hlm_handler'],
               os.path.join(layout.etc, 'object-server')))


def filter_entry_point(name):
    """egg:swift#<entry point> (= module in swift.common.middleware) of a
    proxy pipeline element."""
    return 'memcache' if name == 'cache' else name.replace('-', '_')


def die(msg):
    print('saio: ' + msg, file=sys.stderr)
    sys.exit(1)


# --------------------------------------------------------------------------
# Pointing Swift at a private swift.conf (shared with python_ring.py)

def use_swift_conf(swift_dir):
    """Make Swift in this process use swift_dir/swift.conf, not /etc's.

    utils.SWIFT_CONF_FILE is read lazily by validate_hash_conf(),
    reload_constraints() and reload_storage_policies(); the latter two have
    already run once at import time against /etc/swift/swift.conf, so they
    are re-run here.  Children forked afterwards inherit the result.
    """
    # Must be set before eventlet is first imported (swift.common.utils
    # imports it); DNS is never needed, everything is addressed by IP.
    os.environ['EVENTLET_NO_GREENDNS'] = 'yes'
    from swift.common import constraints, storage_policy, utils
    utils.SWIFT_CONF_FILE = os.path.join(swift_dir, 'swift.conf')
    utils.HASH_PATH_PREFIX = b''
    utils.HASH_PATH_SUFFIX = b''
    utils.validate_hash_conf()
    constraints.reload_constraints()
    storage_policy.reload_storage_policies()


# --------------------------------------------------------------------------
# Layout

class Layout(object):
    """Every path and port of a cluster rooted at `root`."""

    def __init__(self, root, base_port=DEFAULT_BASE_PORT, hosts=None):
        """hosts: the --hosts-json document, or None for NODES on IP."""
        self.root = root
        self.base_port = base_port
        self.hosts = hosts
        if hosts:
            self.nodes = tuple(h['node'] for h in hosts['nodes'])
            self.user = hosts.get('user')
            self._node_host = {h['node']: h for h in hosts['nodes']}
        else:
            self.nodes = NODES
            self.user = None
            self._node_host = {}
        self.etc = os.path.join(root, 'etc')
        self.srv = os.path.join(root, 'srv')
        self.log = os.path.join(root, 'log')
        self.run = os.path.join(root, 'run')
        self.hlm = os.path.join(root, 'hlm')
        self.cache = os.path.join(root, 'cache')
        self.pids_file = os.path.join(self.run, 'pids.json')
        self.layout_file = os.path.join(self.run, 'layout.json')
        self.cluster_file = os.path.join(root, 'cluster.json')
        self.env_file = os.path.join(root, 'env.sh')
        self.proxy_port = base_port
        self.memcached_port = base_port + 1

    def port(self, kind, node):
        return self.base_port + STORAGE_KINDS[kind] + node

    def node_ip(self, node):
        return self._node_host[node]['ip'] if node in self._node_host else IP

    def node_namespace(self, node):
        """The network namespace node's servers run in, or None."""
        return self._node_host[node]['namespace'] \
            if node in self._node_host else None

    def devices(self, node):
        return os.path.join(self.srv, str(node), 'node')

    def server_conf(self, kind, node):
        return os.path.join(self.etc, '%s-server' % kind, '%d.conf' % node)

    def hlm_db(self, node):
        return os.path.join(self.hlm, 'dummy-%d.sqlite' % node)

    def log_file(self, name):
        return os.path.join(self.log, name + '.log')

    def servers(self):
        """All processes of the cluster, memcached first (the proxy needs
        it).  Each: name, kind, port, and conf/section for Swift servers."""
        procs = [{'name': 'memcached', 'kind': 'memcached',
                  'port': self.memcached_port, 'ip': IP}]
        for kind in STORAGE_KINDS:
            for n in self.nodes:
                procs.append({'name': '%s-server-%d' % (kind, n),
                              'kind': kind, 'port': self.port(kind, n),
                              'ip': self.node_ip(n), 'node': n,
                              'namespace': self.node_namespace(n),
                              'conf': self.server_conf(kind, n),
                              'section': '%s-server' % kind})
        procs.append({'name': 'proxy-server', 'kind': 'proxy',
                      'port': self.proxy_port, 'ip': IP,
                      'conf': os.path.join(self.etc, 'proxy-server.conf'),
                      'section': 'proxy-server'})
        return procs


# --------------------------------------------------------------------------
# Config files

def render_ini(sections):
    """Plain `key = value` lines, no inline comments: readable by
    ConfigParser, paste.deploy and the inih C library alike."""
    out = ['# Generated by test/saio/saio.py; rewritten on every start.\n']
    for name, items in sections:
        out.append('\n[%s]\n' % name)
        out.extend('%s = %s\n' % (k, v) for k, v in items)
    return ''.join(out)


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def swift_conf():
    sections = [('swift-hash', [('swift_hash_path_prefix', 'saio-prefix'),
                                ('swift_hash_path_suffix', 'saio-suffix')])]
    for index, name, _ring, _replicas in POLICIES:
        items = [('name', name)]
        if index == DEFAULT_POLICY:
            items.append(('default', 'yes'))
        items.append(('policy_type', 'replication'))
        if HLM_SWIFT:
            items.append(('diskfile_module', 'egg:hlm_swift#replication.fs'))
        sections.append(('storage-policy:%d' % index, items))
    return render_ini(sections)


def common_defaults(layout, port, ip=IP, user='root'):
    # workers = 0 keeps each server a single process whose PID we record.
    # user: only consulted by daemons that drop privileges (the storage
    # servers of --hosts-json nodes drop them in swift_target).
    return [('bind_ip', ip), ('bind_port', port), ('workers', 0),
            ('user', user), ('swift_dir', layout.etc),
            ('log_level', 'INFO'), ('recon_cache_path', layout.cache)]


def storage_conf(layout, kind, node):
    app = '%s-server' % kind
    defaults = [('devices', layout.devices(node)),
                ('mount_check', 'false'), ('disable_fallocate', 'true')]
    defaults += common_defaults(layout, layout.port(kind, node),
                                layout.node_ip(node), layout.user or 'root')
    guarded = kind == 'object' and HLM_SWIFT
    pipeline = 'healthcheck hlm_guard ' if guarded else 'healthcheck '
    sections = [
        ('DEFAULT', defaults),
        ('pipeline:main', [('pipeline', pipeline + app)]),
        ('app:' + app, [('use', 'egg:swift#' + kind)]),
        ('filter:healthcheck', [('use', 'egg:swift#healthcheck')]),
    ]
    if guarded:
        sections.append(('filter:hlm_guard', [('use', 'egg:hlm_swift#guard')]))
    # Sections for the background daemons, so a test can run one `once`.
    # ssync lets the object replicator work without rsyncd.
    if kind == 'object':
        sections += [('object-replicator', [('sync_method', 'ssync')]),
                     ('object-updater', []), ('object-auditor', [])]
        # Consumed by hlm's C++ object-server handler; Swift ignores them.
        sections += [('hlm', [('connector', 'dummy')]),
                     ('hlm:dummy', [('db_path', layout.hlm_db(node))])]
    else:
        sections += [('%s-replicator' % kind, []),
                     ('%s-auditor' % kind, [])]
        sections.append(('container-updater', []) if kind == 'container'
                        else ('account-reaper', []))
    return render_ini(sections)


def proxy_conf(layout):
    tempauth = [('use', 'egg:swift#tempauth')]
    tempauth += [('user_%s_%s' % (acct, user), '%s %s' % (key, role))
                 for acct, user, key, role in USERS]
    sections = [
        ('DEFAULT', common_defaults(layout, layout.proxy_port)),
        ('pipeline:main', [('pipeline', proxy_pipeline())]),
        ('app:proxy-server', [('use', 'egg:swift#proxy'),
                              ('allow_account_management', 'true'),
                              ('account_autocreate', 'true')]),
        ('filter:tempauth', tempauth),
        ('filter:cache', [('use', 'egg:swift#memcache'),
                          ('memcache_servers',
                           '%s:%d' % (IP, layout.memcached_port))]),
    ]
    configured = {'tempauth', 'cache'}
    if HLM_TOOLS:
        configured.add('hlm')
        sections.append(('filter:hlm', [
            ('use', 'egg:hlm_swift#hlm'), ('hlmctl', HLM_TOOLS['hlmctl']),
            ('hlm_conf', os.path.join(layout.etc, 'hlm.conf'))]))
    # The remaining filters need nothing but their entry point.
    for name in PROXY_PIPELINE.split()[:-1]:
        if name not in configured:
            configured.add(name)
            sections.append(('filter:' + name, [
                ('use', 'egg:swift#' + filter_entry_point(name))]))
    return render_ini(sections)


def write_configs(layout):
    write_file(os.path.join(layout.etc, 'swift.conf'), swift_conf())
    write_file(os.path.join(layout.etc, 'proxy-server.conf'),
               proxy_conf(layout))
    if HLM_TOOLS:
        write_file(os.path.join(layout.etc, 'hlm.conf'), hlm_conf(layout))
    for kind in STORAGE_KINDS:
        for n in layout.nodes:
            write_file(layout.server_conf(kind, n),
                       storage_conf(layout, kind, n))


def build_rings(layout):
    """Rings built in-process with a fixed seed: reproducible and ~0.1 s."""
    from swift.common.ring import RingBuilder
    rings = [('account', 3, 'account'), ('container', 3, 'container')]
    rings += [(ring, replicas, 'object')
              for _i, _n, ring, replicas in POLICIES]
    for ring_name, replicas, kind in rings:
        builder = RingBuilder(PART_POWER, replicas, 1)
        for n in layout.nodes:
            port = layout.port(kind, n)
            ip = layout.node_ip(n)
            builder.add_dev({'id': n - 1, 'region': 1, 'zone': n,
                             'ip': ip, 'port': port,
                             'replication_ip': ip, 'replication_port': port,
                             'device': 'sdb%d' % n, 'weight': 1.0,
                             'meta': ''})
        builder.rebalance(seed=RING_SEED)
        builder.save(os.path.join(layout.etc, ring_name + '.builder'))
        builder.get_ring().save(
            os.path.join(layout.etc, ring_name + '.ring.gz'))


def make_fresh_tree(layout):
    """Remove whatever a previous (stopped) cluster left, create dirs."""
    for d in (layout.etc, layout.srv, layout.log, layout.run, layout.hlm,
              layout.cache):
        shutil.rmtree(d, ignore_errors=True)
    for f in (layout.cluster_file, layout.env_file):
        if os.path.exists(f):
            os.unlink(f)
    for n in layout.nodes:
        os.makedirs(os.path.join(layout.devices(n), 'sdb%d' % n))
    for d in (layout.log, layout.run, layout.hlm, layout.cache):
        os.makedirs(d)
    if layout.user:
        # The storage servers run as the user: their devices, the
        # recon cache and the dummy backends' databases are its own.
        entry = pwd.getpwnam(layout.user)
        for d in [layout.srv, layout.hlm, layout.cache]:
            for top, dirs, _files in os.walk(d):
                os.chown(top, entry.pw_uid, entry.pw_gid)


# --------------------------------------------------------------------------
# Processes

def proc_stat(pid):
    """(state, starttime) from /proc/<pid>/stat, or None if gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # comm (field 2) may contain spaces and ')': split after the last ')'.
    fields = data[data.rindex(')') + 2:].split()
    return fields[0], int(fields[19])


def is_alive(rec):
    """True if rec's process still runs and is the one we started.

    A zombie counts as dead (this machine's init reaps orphans late), and a
    differing starttime means the PID was recycled by another process.
    """
    st = proc_stat(rec['pid'])
    return st is not None and st[0] not in 'ZX' and \
        st[1] == rec['starttime']


def read_pids(layout):
    try:
        with open(layout.pids_file) as f:
            return json.load(f)['processes']
    except FileNotFoundError:
        return []


def write_pids(layout, records):
    tmp = layout.pids_file + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({'processes': records}, f, indent=1)
    os.rename(tmp, layout.pids_file)


def daemonize_child(name, log_path):
    """In a freshly double-forked process: detach stdio, drop inherited fds.

    Inherited fds (e.g. a caller's capture pipe) would keep that caller
    waiting for EOF for as long as the server lives.
    """
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.closerange(3, os.sysconf('SC_OPEN_MAX'))
    os.chdir('/')
    # Shown by `ps -o comm` and top (at most 15 bytes): "object-3".
    with open('/proc/self/comm', 'w') as f:
        f.write(name.replace('-server', '')[:15])


def spawn(name, log_path, target):
    """Run target() in a double-forked daemon; return (pid, starttime).

    The intermediate child calls setsid() and exits at once, so the daemon
    is re-parented to init and survives this process.  target() returns an
    exit status; any exception is logged to the daemon's log.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(rfd)
            os.setsid()
            daemon = os.fork()
            if daemon == 0:
                status = 1
                try:
                    daemonize_child(name, log_path)
                    status = target()
                except BaseException:
                    traceback.print_exc()
                finally:
                    sys.stderr.flush()
                    os._exit(status or 0)
            os.write(wfd, str(daemon).encode())
        finally:
            os._exit(0)
    os.close(wfd)
    data = os.read(rfd, 32)
    os.close(rfd)
    os.waitpid(child, 0)
    if not data:
        raise RuntimeError('could not fork %s' % name)
    pid = int(data)
    st = proc_stat(pid)
    # A daemon that already died is recorded with starttime -1 and is
    # reported dead by the readiness check with its log.
    return pid, (st[1] if st else -1)


def memcached_target(port):
    def run():
        args = [MEMCACHED, '-l', IP, '-p', str(port), '-U', '0', '-m', '64']
        if os.geteuid() == 0:
            args += ['-u', 'root']      # memcached refuses root without -u
        os.execv(MEMCACHED, args)
    return run


def enter_namespace(namespace):
    """Moves this (single-threaded, freshly forked) process into the network
    namespace `ip netns add` created; Python 3.11 has no os.setns."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open(os.path.join('/run/netns', namespace)) as f:
        if libc.setns(f.fileno(), CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, 'setns into network namespace %s: %s'
                          % (namespace, os.strerror(err)))


def become(user):
    """Drops root for `user`, as Swift's drop_privileges would (it is not
    called with workers = 0)."""
    entry = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.environ['HOME'] = entry.pw_dir


def swift_target(conf, section, namespace=None, user=None):
    def run():
        if namespace:
            enter_namespace(namespace)
        if user and os.geteuid() == 0:
            become(user)
        from swift.common.wsgi import run_wsgi
        kwargs = {'verbose': True}    # log to stderr (no /dev/log here)
        if section == 'object-server':
            from swift.obj import server
            kwargs['global_conf_callback'] = server.global_conf_callback
        return run_wsgi(conf, section, **kwargs)
    return run


def stage_hlm_python(layout, fresh):
    """With --hosts-json the storage servers run as the layout's user,
    who may not be able to read this checkout (a clone in a 0700 temporary
    directory): they would not find hlm_swift's egg-info.  Copies python/
    under the cluster's own directory (which that user reaches) and puts
    the copy first on sys.path, before anything imports pkg_resources
    (whose working set remembers where each egg-info was).  fresh:
    replace an earlier copy (start); otherwise keep it (start-node, while
    the other nodes' servers run from it)."""
    global HLM_PYTHON_DIR
    if not layout.user:
        return
    if 'pkg_resources' in sys.modules:
        raise AssertionError('stage_hlm_python after pkg_resources loaded')
    staged = os.path.join(layout.root, 'python')
    if fresh or not os.path.isdir(staged):
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(HLM_PYTHON_DIR, staged,
                        ignore=shutil.ignore_patterns('__pycache__'))
        for top, dirs, files in os.walk(staged):
            os.chmod(top, 0o755)
            for f in files:
                os.chmod(os.path.join(top, f), 0o644)
    parent = os.path.abspath(layout.root)
    while True:
        mode = os.stat(parent).st_mode
        if not mode & 0o001:
            die('%s is not searchable by other users (mode %o): the servers '
                'running as %s cannot load hlm_swift from %s'
                % (parent, mode & 0o777, layout.user, staged))
        if parent == os.path.dirname(parent):
            break
        parent = os.path.dirname(parent)
    sys.path[:] = [staged if p == HLM_PYTHON_DIR else p for p in sys.path]
    HLM_PYTHON_DIR = staged


def preload_swift():
    """Do once, before forking, what every server would do on its own."""
    import importlib
    from swift.common import utils
    utils.eventlet_monkey_patch()
    modules = ['swift.common.wsgi', 'swift.proxy.server',
               'swift.account.server', 'swift.container.server',
               'swift.obj.server', 'hlm_swift.guard', 'hlm_swift.diskfile',
               'hlm_swift.interface']
    modules += ['swift.common.middleware.' + filter_entry_point(name)
                for name in PROXY_PIPELINE.split()[:-1]]
    for m in modules:
        importlib.import_module(m)


# --------------------------------------------------------------------------
# Probes

def probe_http(port, path, headers=None, timeout=2.0, ip=IP):
    """(status, headers) of a GET, or None if no HTTP answer."""
    conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request('GET', path, headers=headers or {})
        resp = conn.getresponse()
        resp.read()
        return resp.status, resp.headers
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def probe_memcached(port, timeout=2.0):
    try:
        with socket.create_connection((IP, port), timeout=timeout) as s:
            s.sendall(b'version\r\n')
            return s.recv(64).startswith(b'VERSION')
    except OSError:
        return False


def answers(rec):
    """True if the server answers: HTTP for account/container/object,
    /healthcheck 200 for the proxy, `version` for memcached."""
    if rec['kind'] == 'memcached':
        return probe_memcached(rec['port'])
    res = probe_http(rec['port'], '/healthcheck', ip=rec.get('ip', IP))
    if rec['kind'] == 'proxy':
        return res is not None and res[0] == 200
    return res is not None


def auth_works(layout):
    acct, user, key, _role = USERS[0]
    res = probe_http(layout.proxy_port, '/auth/v1.0',
                     {'X-Auth-User': '%s:%s' % (acct, user),
                      'X-Auth-Key': key})
    return res is not None and res[0] == 200 and 'X-Auth-Token' in res[1]


def port_in_use(port, ip=IP):
    """Bind without SO_REUSEPORT: fails even against a Swift server (which
    sets SO_REUSEPORT itself).  SO_REUSEADDR only ignores TIME_WAIT."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def log_tail(path, lines=LOG_TAIL_LINES):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except FileNotFoundError:
        return '(no log)\n'


def wait_ready(layout, records, deadline):
    """Return None when all answer and auth works, else (record, reason)."""
    pending = list(records)
    while True:
        for rec in list(pending):
            if not is_alive(rec):
                return rec, 'exited'
            if answers(rec):
                pending.remove(rec)
        if not pending and auth_works(layout):
            return None
        if time.monotonic() > deadline:
            if pending:
                return pending[0], 'not answering after %.0f s' % \
                    READY_TIMEOUT
            proxy = [r for r in records if r['kind'] == 'proxy'][0]
            return proxy, 'tempauth login for test:tester failed'
        time.sleep(0.05)


# --------------------------------------------------------------------------
# Outputs

def cluster_info(layout):
    proxy_url = 'http://%s:%d' % (IP, layout.proxy_port)
    nodes = []
    for n in layout.nodes:
        nodes.append({
            'index': n, 'ip': layout.node_ip(n),
            'account_port': layout.port('account', n),
            'container_port': layout.port('container', n),
            'object_port': layout.port('object', n),
            'devices': layout.devices(n), 'device': 'sdb%d' % n,
            'device_id': n - 1,
            'account_server_conf': layout.server_conf('account', n),
            'container_server_conf': layout.server_conf('container', n),
            'object_server_conf': layout.server_conf('object', n),
            'hlm_db_path': layout.hlm_db(n),
        })
        if layout.node_namespace(n):
            nodes[-1]['namespace'] = layout.node_namespace(n)
    return {
        'dir': layout.root,
        'swift_dir': layout.etc,
        'proxy_url': proxy_url,
        'auth_url': proxy_url + '/auth/v1.0',
        'users': [{'user': '%s:%s' % (a, u), 'key': k, 'account': 'AUTH_' + a,
                   'role': r} for a, u, k, r in USERS],
        'memcached': '%s:%d' % (IP, layout.memcached_port),
        'part_power': PART_POWER,
        'policies': [{'index': i, 'name': n, 'ring': ring + '.ring.gz',
                      'replicas': r} for i, n, ring, r in POLICIES],
        'nodes': nodes,
        'log_dir': layout.log,
    }


def env_sh(info):
    acct_user = info['users'][0]
    values = [('ST_AUTH', info['auth_url']), ('ST_USER', acct_user['user']),
              ('ST_KEY', acct_user['key']), ('HLM_SAIO_DIR', info['dir']),
              ('HLM_SWIFT_DIR', info['swift_dir'])]
    return ''.join('export %s=%s\n' % (k, shlex.quote(v)) for k, v in values)


# --------------------------------------------------------------------------
# Commands

def cmd_start(layout):
    t0 = time.monotonic()
    if '%' in layout.root:
        die('DIR must not contain "%" (paste.deploy interpolates it)')
    if any(is_alive(r) for r in read_pids(layout)):
        die('a cluster is already running in %s (saio.py stop --dir %s)'
            % (layout.root, layout.root))
    # A namespace's addresses cannot be bound from here; the rig made
    # those namespaces afresh.
    busy = [(p['name'], p['port']) for p in layout.servers()
            if not p.get('namespace') and port_in_use(p['port'])]
    if busy:
        die('port(s) already in use: %s; is another cluster running? '
            'choose another --base-port' %
            ', '.join('%d (%s)' % (port, n) for n, port in busy))

    os.makedirs(layout.root, exist_ok=True)
    make_fresh_tree(layout)
    stage_hlm_python(layout, fresh=True)
    write_configs(layout)
    use_swift_conf(layout.etc)
    build_rings(layout)
    preload_swift()

    if layout.hosts:
        with open(layout.layout_file, 'w') as f:
            json.dump({'base_port': layout.base_port, 'hosts': layout.hosts},
                      f, indent=1)
    records = []
    try:
        start_processes(layout, layout.servers(), records)
        write_pids(layout, records)
        failure = wait_ready(layout, records,
                             time.monotonic() + READY_TIMEOUT)
    except BaseException:   # includes Ctrl-C: never leave daemons behind
        write_pids(layout, records)
        cmd_stop(layout)
        raise
    if failure:
        rec, reason = failure
        print('saio: %s (pid %d, port %d) did not come up: %s\n'
              '--- last lines of %s ---\n%s---' %
              (rec['name'], rec['pid'], rec['port'], reason, rec['log'],
               log_tail(rec['log'])), file=sys.stderr)
        cmd_stop(layout)
        sys.exit(1)

    info = cluster_info(layout)
    with open(layout.cluster_file, 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    write_file(layout.env_file, env_sh(info))
    print('saio: cluster ready in %.2f s: %s (source %s)' %
          (time.monotonic() - t0, info['proxy_url'], layout.env_file))


def start_processes(layout, procs, records):
    """Spawns procs, appending each one's record to records as it starts
    (so that a failure part way leaves the started ones stoppable)."""
    for proc in procs:
        log_path = layout.log_file(proc['name'])
        if proc['kind'] == 'memcached':
            target = memcached_target(proc['port'])
        else:
            target = swift_target(proc['conf'], proc['section'],
                                  proc.get('namespace'), layout.user)
        pid, starttime = spawn(proc['name'], log_path, target)
        rec = {'name': proc['name'], 'kind': proc['kind'],
               'port': proc['port'], 'pid': pid,
               'starttime': starttime, 'log': log_path}
        # Only the multi-host layout's records carry these: the default
        # cluster's pids.json stays as it was.
        for key in ('ip', 'node', 'namespace'):
            if proc.get('namespace') or (key == 'ip' and layout.hosts):
                rec[key] = proc.get(key)
        records.append(rec)


def cmd_start_node(root, node):
    """Starts again those servers of `node` that no longer run (a test
    crashed its host); the others are left alone."""
    try:
        with open(os.path.join(root, 'run', 'layout.json')) as f:
            saved = json.load(f)
    except FileNotFoundError:
        die('%s has no multi-host cluster (start --hosts-json)' % root)
    layout = Layout(root, saved['base_port'], saved['hosts'])
    if node not in layout.nodes:
        die('no node %d in %s (nodes: %s)' % (
            node, root, ', '.join(str(n) for n in layout.nodes)))
    records = read_pids(layout)
    running = {r['name'] for r in records if is_alive(r)}
    wanted = [p for p in layout.servers()
              if p.get('node') == node and p['name'] not in running]
    if not wanted:
        print('saio: node %d: all servers running' % node)
        return
    stage_hlm_python(layout, fresh=False)
    use_swift_conf(layout.etc)
    preload_swift()
    started = []
    try:
        start_processes(layout, wanted, started)
    finally:
        names = {r['name'] for r in started}
        write_pids(layout, [r for r in records if r['name'] not in names]
                   + started)
    for rec in started:
        deadline = time.monotonic() + READY_TIMEOUT
        while not answers(rec):
            if not is_alive(rec) or time.monotonic() > deadline:
                die('%s (pid %d) did not come up\n--- last lines of %s ---\n'
                    '%s---' % (rec['name'], rec['pid'], rec['log'],
                               log_tail(rec['log'])))
            time.sleep(0.05)
    print('saio: node %d: started %s' % (
        node, ', '.join(r['name'] for r in started)))


def signal_and_wait(records, sig, timeout):
    """Send sig to the live processes of records; return those still alive
    after timeout seconds."""
    alive = [r for r in records if is_alive(r)]
    for rec in alive:
        try:
            os.kill(rec['pid'], sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [r for r in alive if is_alive(r)]
    return alive


def cmd_stop(layout):
    alive = signal_and_wait(read_pids(layout), signal.SIGTERM, STOP_TIMEOUT)
    if alive:
        print('saio: still running %.0f s after SIGTERM, killing: %s' %
              (STOP_TIMEOUT, ', '.join('%s (%d)' % (r['name'], r['pid'])
                                       for r in alive)), file=sys.stderr)
        alive = signal_and_wait(alive, signal.SIGKILL, 5.0)
    if alive:
        die('could not stop: %s' % ', '.join(r['name'] for r in alive))
    if os.path.exists(layout.pids_file):
        os.unlink(layout.pids_file)


def cmd_status(layout):
    records = read_pids(layout)
    if not records:
        print('saio: no cluster running in %s' % layout.root)
        return 1
    ok = True
    for rec in records:
        if not is_alive(rec):
            state = 'DEAD'
        elif not answers(rec):
            state = 'NOT ANSWERING'
        else:
            state = 'ok'
        ok = ok and state == 'ok'
        print('%-20s pid %-7d port %-5d %s' %
              (rec['name'], rec['pid'], rec['port'], state))
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(
        description='Swift-All-In-One test cluster for hlm.')
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('start', 'stop', 'status', 'start-node'):
        p = sub.add_parser(name)
        p.add_argument('--dir', required=True, help='cluster directory')
        if name == 'start-node':
            p.add_argument('--node', type=int, required=True,
                           help='the node whose servers to start again')
        if name == 'start':
            p.add_argument('--hosts-json', metavar='FILE',
                           help='storage nodes as hosts in network '
                                'namespaces (see the module doc)')
            p.add_argument('--without-hlm-swift', action='store_true',
                           help="stock Swift: no hlm_guard in the object "
                                "servers' pipeline, Swift's own DiskFile")
            p.add_argument('--default-policy', type=int, default=0,
                           choices=[p[0] for p in POLICIES],
                           help='the default storage policy (default 0)')
            p.add_argument('--hlmctl', metavar='PATH',
                           help="with --hlm-handler: the proxy answers "
                                "SwiftHLM's HTTP interface with this hlmctl")
            p.add_argument('--hlm-handler', metavar='PATH',
                           help='the hlm-handler that hlmctl runs')
            p.add_argument('--base-port', type=int,
                           default=int(os.environ.get('HLM_SAIO_BASE_PORT',
                                                      DEFAULT_BASE_PORT)),
                           help='proxy port; others follow it (default '
                                '$HLM_SAIO_BASE_PORT or %d)'
                                % DEFAULT_BASE_PORT)
    args = parser.parse_args()
    root = os.path.abspath(args.dir)
    if args.command == 'start':
        global HLM_SWIFT
        HLM_SWIFT = not args.without_hlm_swift
        global DEFAULT_POLICY
        DEFAULT_POLICY = args.default_policy
        if bool(args.hlmctl) != bool(args.hlm_handler):
            die('--hlmctl and --hlm-handler go together')
        if args.hlmctl and HLM_SWIFT:
            global HLM_TOOLS
            HLM_TOOLS = {'hlmctl': os.path.abspath(args.hlmctl),
                         'hlm_handler': os.path.abspath(args.hlm_handler)}
        hosts = None
        if args.hosts_json:
            with open(args.hosts_json) as f:
                hosts = json.load(f)
        cmd_start(Layout(root, args.base_port, hosts))
        return 0
    if args.command == 'start-node':
        cmd_start_node(root, args.node)
        return 0
    # stop and status use the PIDs and ports recorded in DIR/run/pids.json.
    layout = Layout(root)
    if args.command == 'stop':
        cmd_stop(layout)
        return 0
    return cmd_status(layout)


if __name__ == '__main__':
    sys.exit(main())
