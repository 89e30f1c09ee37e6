#!/usr/bin/python3
"""Several storage hosts on this machine, for hlm's multi-host tests.

    rig.py up    --dir DIR [--hosts N] [--base-port P]
    rig.py down  --dir DIR
    rig.py start-host --dir DIR --host NAME
    rig.py fault --dir DIR --host NAME --kind KIND
    rig.py status --dir DIR

`up` makes N hosts (default 3), each a network namespace with its own
address, sshd and Swift storage servers, so that the rings carry N distinct
IPs and hlm-dispatch really fans out over ssh:

* a bridge in the root namespace holding 10.X.Y.1/24, and per host a
  namespace whose veth is on the bridge, host i at 10.X.Y.(10+i), loopback
  up, no default route: nothing leaves the private subnet.  X.Y and every
  interface and namespace name (hm<6 hex>br, hm<6 hex>h<i>, hm<6 hex>v<i>)
  come from a hash of DIR, so two build trees never collide;
* per host an sshd on port 22 (test/sshd/sshd.py's config: own host key,
  PidFile, `SetEnv HLM_HOST=<name>`), one client identity for the dedicated
  test user (/bin/sh), a known_hosts with every host's key;
* a Swift cluster (test/saio/saio.py --hosts-json): node i's account,
  container and object servers inside host i's namespace on its IP, running
  as the test user (who owns the replica files, as `swift` does on a real
  node); proxy and memcached on 127.0.0.1 at P and P+1 (default
  $HLM_MULTIHOST_BASE_PORT, else $HLM_SAIO_BASE_PORT + 400, else 16500:
  clear of the single-host test cluster's ports).

It writes DIR/rig.json (see rig_info()) for the tests.  State that the test
user must read (keys, authorized_keys, the cluster tree) lives in a 0755
directory under /run (below $HLM_SSHD_BASE when set), whatever the modes of
the build tree holding DIR.

`down` kills every process in the namespaces, removes namespaces, veths,
bridge (nftables rules live inside the namespaces and go with them), stops
the proxy and memcached and removes the state directory.  `up` first does
the same for leftovers of a failed run with the same names; both are
idempotent.

`start-host` brings one host back after a fault: SIGCONT to its processes,
nftables flushed, links up, sshd and the node's Swift servers started again
where they are gone.  `fault` applies one (see FAULTS); the tests import
this module for both.

Exit status: 0, 1 on failure, 125 (skip) when network namespaces are not
permitted here and CI is not set (under CI that is a failure).

Run as root with /usr/bin/python3; stdlib only.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_DIR = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TEST_DIR, 'sshd'))
import sshd  # noqa: E402  (test/sshd/sshd.py)

SAIO = os.path.join(TEST_DIR, 'saio', 'saio.py')
PYTHON = '/usr/bin/python3'
IP = '/usr/sbin/ip'
NFT = '/usr/sbin/nft'
SKIP = 125
SSH_PORT = 22
DEFAULT_HOSTS = 3
DEFAULT_BASE_PORT = 16500
MAX_HOSTS = 99
KILL_TIMEOUT = 5.0

FAULTS = {
    'crash': 'SIGKILL every process of the host (sshd, sessions, servers)',
    'freeze': 'SIGSTOP every process of the host (SIGCONT with start-host)',
    'blackhole': 'an nftables rule in the host drops every packet',
    'link-down': "the host's veth on the bridge is set down",
    'kill-handler': 'SIGKILL the hlm-handler processes of the host',
}


class RigError(Exception):
    pass


class Skip(Exception):
    pass


def under_ci():
    return os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def run(argv, check=True, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if check and proc.returncode != 0:
        raise RigError('%s failed (exit %d): %s' % (
            ' '.join(argv), proc.returncode,
            (proc.stderr or proc.stdout).strip()))
    return proc


# --------------------------------------------------------------------------
# Names

class Names:
    """Everything derived from DIR: interface and namespace names (at most
    15 bytes, the kernel's IFNAMSIZ - 1), the subnet, the state dir."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        digest = hashlib.md5(self.dir.encode()).hexdigest()
        self.tag = 'hm' + digest[:6]
        self.bridge = self.tag + 'br'
        # 10.64.0.0 .. 10.191.255.0: clear of the 10.0/10.1 nets that
        # container and VPN setups like, and of the 10.77.0.0/24 of the
        # notes' experiments only by chance, which up checks anyway.
        x = 64 + int(digest[6:8], 16) % 128
        y = int(digest[8:10], 16)
        self.prefix = '10.%d.%d.' % (x, y)
        self.subnet = self.prefix + '0/24'
        self.gateway = self.prefix + '1'
        base = os.environ.get('HLM_SSHD_BASE')
        self.state = os.path.join(base, 'multihost-' + digest[:8]) if base \
            else '/run/hlm-tests/multihost-' + digest[:8]
        self.info = os.path.join(self.dir, 'rig.json')

    def namespace(self, i):
        return '%sh%d' % (self.tag, i)

    def veth(self, i):
        return '%sv%d' % (self.tag, i)

    def ip(self, i):
        return '%s%d' % (self.prefix, 10 + i)

    def host_name(self, i):
        return 'host%d' % i

    def host_dir(self, i):
        return os.path.join(self.state, 'hosts', self.host_name(i))

    @property
    def swift_dir(self):
        return os.path.join(self.state, 'swift')


def default_base_port():
    if os.environ.get('HLM_MULTIHOST_BASE_PORT'):
        return int(os.environ['HLM_MULTIHOST_BASE_PORT'])
    if os.environ.get('HLM_SAIO_BASE_PORT'):
        return int(os.environ['HLM_SAIO_BASE_PORT']) + 400
    return DEFAULT_BASE_PORT


# --------------------------------------------------------------------------
# Processes in a namespace

def netns_pids(namespace):
    proc = run([IP, 'netns', 'pids', namespace], check=False)
    if proc.returncode != 0:
        return []
    return [int(p) for p in proc.stdout.split()]


def comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def signal_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def kill_namespace(namespace):
    """SIGKILLs every process in namespace until none is left (sshd may
    fork a session meanwhile).  Stopped ones are killed too."""
    deadline = time.monotonic() + KILL_TIMEOUT
    while True:
        pids = netns_pids(namespace)
        if not pids:
            return
        signal_pids(pids, signal.SIGKILL)
        if time.monotonic() > deadline:
            raise RigError('processes %s in namespace %s survive SIGKILL'
                           % (pids, namespace))
        time.sleep(0.02)


def existing_namespaces(names):
    proc = run([IP, 'netns', 'list'], check=False)
    found = []
    for line in proc.stdout.splitlines():
        name = line.split()[0] if line.split() else ''
        if name.startswith(names.tag + 'h'):
            found.append(name)
    return found


def our_links(names):
    """Names of the root namespace's interfaces that belong to this rig."""
    proc = run([IP, '-j', 'link', 'show'])
    return [link['ifname'] for link in json.loads(proc.stdout or '[]')
            if link.get('ifname', '').startswith(names.tag)]


def delete_links(names):
    """Deletes this rig's bridge and veths.  A namespace's removal frees
    its veth pairs asynchronously: wait for that first, so that a
    following `up` can reuse the names."""
    deadline = time.monotonic() + KILL_TIMEOUT
    while True:
        veths = [n for n in our_links(names) if n != names.bridge]
        if not veths or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for name in our_links(names):
        proc = run([IP, 'link', 'del', name], check=False)
        if proc.returncode != 0 and name in our_links(names):
            raise RigError('ip link del %s: %s' % (name,
                                                   proc.stderr.strip()))


# --------------------------------------------------------------------------
# down

def down(names, quiet=False):
    t0 = time.monotonic()
    try:
        with open(names.info) as f:
            names.state = json.load(f)['state_dir']
    except (OSError, ValueError, KeyError):
        pass
    namespaces = existing_namespaces(names)
    for ns in namespaces:
        kill_namespace(ns)
    # The proxy and memcached in the root namespace.
    if os.path.exists(os.path.join(names.swift_dir, 'run', 'pids.json')):
        proc = run([PYTHON, SAIO, 'stop', '--dir', names.swift_dir],
                   check=False)
        if proc.returncode != 0:
            raise RigError('saio.py stop: ' + proc.stderr.strip())
    for ns in namespaces:
        # Takes the veth ends (and so their peers) and the nftables tables
        # inside with it.
        run([IP, 'netns', 'del', ns])
    delete_links(names)
    shutil.rmtree(names.state, ignore_errors=True)
    if os.path.exists(names.info):
        os.unlink(names.info)
    if not quiet:
        print('rig: down in %.2f s (%d namespaces removed)'
              % (time.monotonic() - t0, len(namespaces)))


# --------------------------------------------------------------------------
# up

def check_subnet_free(names):
    """Refuses a subnet that some other interface already uses."""
    proc = run([IP, '-j', '-4', 'addr'])
    for link in json.loads(proc.stdout or '[]'):
        for addr in link.get('addr_info', []):
            if addr.get('local', '').startswith(names.prefix) and \
                    link.get('ifname') != names.bridge:
                raise RigError('%s is already used by %s (%s); remove it or '
                               'use another --dir' % (
                                   names.subnet, link.get('ifname'),
                                   addr['local']))


def add_namespace(ns):
    proc = run([IP, 'netns', 'add', ns], check=False)
    if proc.returncode != 0:
        message = proc.stderr.strip()
        if 'Operation not permitted' in message or \
                'Permission denied' in message:
            raise Skip('network namespaces are not permitted here '
                       '(ip netns add: %s)' % message)
        raise RigError('ip netns add %s: %s' % (ns, message))


def make_network(names, count):
    check_subnet_free(names)
    add_namespace(names.namespace(1))
    run([IP, 'link', 'add', names.bridge, 'type', 'bridge'])
    run([IP, 'addr', 'add', names.gateway + '/24', 'dev', names.bridge])
    run([IP, 'link', 'set', names.bridge, 'up'])
    for i in range(1, count + 1):
        ns = names.namespace(i)
        if i > 1:
            add_namespace(ns)
        run([IP, 'link', 'add', names.veth(i), 'type', 'veth',
             'peer', 'name', 'eth0', 'netns', ns])
        run([IP, 'link', 'set', names.veth(i), 'master', names.bridge, 'up'])
        inside = [IP, '-n', ns]
        run(inside + ['addr', 'add', names.ip(i) + '/24', 'dev', 'eth0'])
        run(inside + ['link', 'set', 'eth0', 'up'])
        run(inside + ['link', 'set', 'lo', 'up'])


def keygen(path, comment):
    """(type, base64) of a new ed25519 key at path."""
    return sshd.keygen(path, comment)


def sshd_layout(names, i):
    return sshd.Layout(names.host_dir(i))


def write_sshd_config(names, i, user):
    layout = sshd_layout(names, i)
    os.makedirs(layout.dir, exist_ok=True)
    os.chmod(layout.dir, 0o755)
    text = sshd.sshd_config(layout, SSH_PORT, user, host=names.ip(i),
                            set_env=['HLM_HOST=' + names.host_name(i)])
    # One authorized_keys for all hosts (the same client identity).
    text = text.replace(
        'AuthorizedKeysFile %s' % layout.path('authorized_keys'),
        'AuthorizedKeysFile %s' % os.path.join(names.state,
                                               'authorized_keys'))
    sshd.write(layout.config, text, 0o644)


def start_sshd(names, i):
    layout = sshd_layout(names, i)
    return sshd.launch(layout, [IP, 'netns', 'exec', names.namespace(i)])


def write_known_hosts(names, count, path=None):
    lines = []
    for i in range(1, count + 1):
        with open(os.path.join(names.host_dir(i),
                               'ssh_host_ed25519_key.pub')) as f:
            key = ' '.join(f.read().split()[:2])
        lines.append('%s %s\n' % (names.ip(i), key))
    sshd.write(path or os.path.join(names.state, 'known_hosts'),
               ''.join(lines), 0o644)


def ssh_check(names, i, user):
    """One login with OpenSSH as a smoke test; returns None or a problem."""
    info = {'host': names.ip(i), 'port': SSH_PORT, 'user': user,
            'identity_file': os.path.join(names.state, 'id_ed25519'),
            'known_hosts': os.path.join(names.state, 'known_hosts')}
    return sshd.smoke_test(sshd_layout(names, i), info)


def hosts_json(names, count, user):
    return {'user': user,
            'nodes': [{'node': i, 'namespace': names.namespace(i),
                       'ip': names.ip(i)} for i in range(1, count + 1)]}


def rig_info(names, count, user, base_port):
    """DIR/rig.json."""
    with open(os.path.join(names.swift_dir, 'cluster.json')) as f:
        cluster = json.load(f)
    hosts = []
    for i in range(1, count + 1):
        layout = sshd_layout(names, i)
        with open(layout.path('ssh_host_ed25519_key.pub')) as f:
            host_key = ' '.join(f.read().split()[:2])
        node = cluster['nodes'][i - 1]
        hosts.append({
            'name': names.host_name(i), 'index': i,
            'namespace': names.namespace(i), 'ip': names.ip(i),
            'veth': names.veth(i), 'ssh_port': SSH_PORT,
            'host_key': host_key,
            'host_key_file': layout.path('ssh_host_ed25519_key'),
            'sshd_config': layout.config, 'sshd_log': layout.log,
            'sshd_pid_file': layout.pid_file,
            'node': node['index'],
            'object_server_conf': node['object_server_conf'],
            'devices': node['devices'], 'device': node['device'],
        })
    return {
        'dir': names.dir, 'state_dir': names.state, 'tag': names.tag,
        'bridge': names.bridge, 'subnet': names.subnet,
        'gateway': names.gateway, 'user': user,
        'identity_file': os.path.join(names.state, 'id_ed25519'),
        'known_hosts': os.path.join(names.state, 'known_hosts'),
        'base_port': base_port,
        'swift_dir': names.swift_dir,
        'cluster_json': os.path.join(names.swift_dir, 'cluster.json'),
        'hosts': hosts,
    }


def up(names, count, base_port):
    t0 = time.monotonic()
    if not 1 <= count <= MAX_HOSTS:
        raise RigError('--hosts must be 1..%d' % MAX_HOSTS)
    if '%' in names.state:
        raise RigError('state dir %s must not contain "%%"' % names.state)
    state = names.state
    down(names, quiet=True)
    names.state = state
    try:
        make_network(names, count)
        entry = sshd.ensure_user(None)
        user = entry.pw_name
        os.makedirs(names.state)
        os.chmod(names.state, 0o755)
        client = keygen(os.path.join(names.state, 'id_ed25519'),
                        'hlm-multihost-client')
        sshd.write(os.path.join(names.state, 'authorized_keys'),
                   ' '.join(client) + '\n', 0o644)
        # The test user reads it (and the cluster tree) through the
        # state dir's parents.
        sshd.check_readable_by(os.path.join(names.state, 'authorized_keys'),
                               entry)
        for i in range(1, count + 1):
            write_sshd_config(names, i, user)
            keygen(sshd_layout(names, i).path('ssh_host_ed25519_key'),
                   names.host_name(i))
        write_known_hosts(names, count)
        for i in range(1, count + 1):
            start_sshd(names, i)
        for i in range(1, count + 1):
            problem = ssh_check(names, i, user)
            if problem:
                raise RigError('%s: %s\n%s' % (
                    names.host_name(i), problem,
                    sshd.log_tail(sshd_layout(names, i))))
        t_net = time.monotonic() - t0

        hosts_file = os.path.join(names.state, 'hosts.json')
        with open(hosts_file, 'w') as f:
            json.dump(hosts_json(names, count, user), f, indent=1)
        proc = run([PYTHON, SAIO, 'start', '--dir', names.swift_dir,
                    '--base-port', str(base_port), '--hosts-json',
                    hosts_file], check=False)
        if proc.returncode != 0:
            raise RigError('saio.py start failed:\n' + proc.stderr)
        info = rig_info(names, count, user, base_port)
        os.makedirs(names.dir, exist_ok=True)
        with open(names.info + '.tmp', 'w') as f:
            json.dump(info, f, indent=2)
            f.write('\n')
        os.replace(names.info + '.tmp', names.info)
    except BaseException:
        down(names, quiet=True)
        raise
    print('rig: %d hosts up in %.2f s (network and sshd %.2f s), %s, '
          'proxy 127.0.0.1:%d; %s' % (
              count, time.monotonic() - t0, t_net, names.subnet, base_port,
              names.info))


# --------------------------------------------------------------------------
# Faults and recovery (also used by the tests through load())

def load(directory):
    """(names, rig.json) of a rig that is up."""
    names = Names(directory)
    try:
        with open(names.info) as f:
            info = json.load(f)
    except FileNotFoundError:
        raise RigError('no rig is up in %s (rig.py up --dir %s)'
                       % (names.dir, names.dir))
    # Where `up` put it, whatever $HLM_SSHD_BASE says now.
    names.state = info['state_dir']
    return names, info


def find_host(info, name):
    for host in info['hosts']:
        if host['name'] == name or host['ip'] == name:
            return host
    raise RigError('no host %s (hosts: %s)' % (
        name, ', '.join(h['name'] for h in info['hosts'])))


def processes(host, program=None):
    """PIDs in host's namespace, only those whose comm is `program` if
    given."""
    pids = netns_pids(host['namespace'])
    if program:
        pids = [p for p in pids if comm(p) == program[:15]]
    return pids


def fault(info, host, kind):
    ns = host['namespace']
    if kind == 'crash':
        kill_namespace(ns)
    elif kind == 'freeze':
        signal_pids(processes(host), signal.SIGSTOP)
    elif kind == 'blackhole':
        run([IP, 'netns', 'exec', ns, NFT, '-f', '-'], input=(
            'table inet hlmrig {\n'
            ' chain input { type filter hook input priority 0; drop; }\n'
            ' chain output { type filter hook output priority 0; drop; }\n'
            '}\n'))
    elif kind == 'link-down':
        run([IP, 'link', 'set', host['veth'], 'down'])
    elif kind == 'kill-handler':
        pids = processes(host, 'hlm-handler')
        if not pids:
            raise RigError('no hlm-handler runs on %s' % host['name'])
        signal_pids(pids, signal.SIGKILL)
    else:
        raise RigError('unknown fault %r (one of %s)'
                       % (kind, ', '.join(FAULTS)))


def start_host(names, info, host):
    """Undoes any fault on host and starts what is gone."""
    ns = host['namespace']
    signal_pids(processes(host), signal.SIGCONT)
    run([IP, 'netns', 'exec', ns, NFT, 'flush', 'ruleset'])
    run([IP, 'link', 'set', host['veth'], 'up'])
    run([IP, '-n', ns, 'link', 'set', 'eth0', 'up'])
    layout = sshd_layout(names, host['index'])
    pid = sshd.read_pid(layout)
    if pid is None or not sshd.is_our_sshd(pid, layout):
        start_sshd(names, host['index'])
    proc = run([PYTHON, SAIO, 'start-node', '--dir', info['swift_dir'],
                '--node', str(host['node'])], check=False)
    if proc.returncode != 0:
        raise RigError('saio.py start-node: ' + proc.stderr.strip())
    # The bridge port takes a moment to forward again after link up.
    deadline = time.monotonic() + 10
    while True:
        problem = ssh_check(names, host['index'], info['user'])
        if not problem:
            return
        if time.monotonic() > deadline:
            raise RigError('%s does not answer ssh after start-host: %s'
                           % (host['name'], problem))
        time.sleep(0.1)


def rekey_host(names, info, host):
    """Gives host a new host key (sshd restarted with it) and puts the new
    key in the rig's known_hosts and rig.json, as an operator would after
    reinstalling a node."""
    layout = sshd_layout(names, host['index'])
    key = keygen(layout.path('ssh_host_ed25519_key'), host['name'])
    sshd.stop(layout)
    start_sshd(names, host['index'])
    write_known_hosts(names, len(info['hosts']))
    host['host_key'] = ' '.join(key)
    with open(names.info + '.tmp', 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    os.replace(names.info + '.tmp', names.info)


def status(names, info):
    ok = True
    for host in info['hosts']:
        layout = sshd_layout(names, host['index'])
        pid = sshd.read_pid(layout)
        running = pid is not None and sshd.is_our_sshd(pid, layout)
        pids = processes(host)
        stopped = [p for p in pids if proc_state(p) == 'T']
        print('%-6s %-15s %-12s sshd %-8s processes %d%s' % (
            host['name'], host['ip'], host['namespace'],
            'running' if running else 'DOWN', len(pids),
            ' (%d stopped)' % len(stopped) if stopped else ''))
        ok = ok and running and not stopped
    return ok


def proc_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(')') + 2:].split()[0]


# --------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(
        description='Several storage hosts in network namespaces.')
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('up')
    p.add_argument('--dir', required=True)
    p.add_argument('--hosts', type=int, default=DEFAULT_HOSTS)
    p.add_argument('--base-port', type=int, default=default_base_port(),
                   help='proxy port on 127.0.0.1; memcached the next '
                        '(default %(default)s)')
    for name in ('down', 'status'):
        sub.add_parser(name).add_argument('--dir', required=True)
    for name in ('start-host', 'fault'):
        p = sub.add_parser(name)
        p.add_argument('--dir', required=True)
        p.add_argument('--host', required=True, help='name or IP')
        if name == 'fault':
            p.add_argument('--kind', required=True, choices=sorted(FAULTS))
    args = parser.parse_args()
    names = Names(args.dir)
    try:
        if args.command == 'up':
            up(names, args.hosts, args.base_port)
        elif args.command == 'down':
            down(names)
        else:
            names, info = load(args.dir)
            if args.command == 'status':
                return 0 if status(names, info) else 1
            host = find_host(info, args.host)
            if args.command == 'fault':
                fault(info, host, args.kind)
            else:
                start_host(names, info, host)
    except Skip as e:
        if under_ci():
            print('rig: %s; CI is set, so this is a failure' % e,
                  file=sys.stderr)
            return 1
        print('rig: skip: %s' % e, file=sys.stderr)
        return SKIP
    except RigError as e:
        print('rig: error: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
