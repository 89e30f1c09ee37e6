#!/usr/bin/python3
"""A real OpenSSH server on 127.0.0.1 for hlm's ssh transport tests.

    sshd.py start  --dir DIR [--port N] [--user U]
    sshd.py stop   --dir DIR
    sshd.py status --dir DIR

`start` generates in DIR a host key, a second host key (for the host key
mismatch test), a user key pair and an unauthorized user key, writes a
standalone sshd_config (nothing from /etc/ssh is read), checks it with
`sshd -t`, starts /usr/sbin/sshd, waits for its PidFile (written after the
listening socket is bound), logs in once with /usr/bin/ssh as a smoke test
and writes DIR/sshd.json:

    {"host", "port", "user", "identity_file", "known_hosts",
     "wrong_known_hosts", "unauthorized_identity_file", "pid", "config",
     "log"}

Without --port a free port is chosen; a given port that is taken is refused.

The login user.  As root, the default is a dedicated account `hlm-sshtest`
(created with useradd when missing: /bin/sh as its shell so no .bashrc runs,
a home directory so sshd does not complain on stderr, and `usermod -p '*'`
because with `UsePAM no` sshd refuses a locked `!` account even for keys).
--user root works too (PermitRootLogin prohibit-password), at the cost of
root's login shell.  As another user, only that user can log in.  The
authorized_keys file stays in DIR (AuthorizedKeysFile with an absolute path)
so that several harnesses can run at once; the user needs to be able to read
it, which `start` checks.

`stop` sends SIGTERM (then SIGKILL) to exactly the pid in DIR/sshd.pid after
checking that /proc/PID/cmdline is this DIR's sshd; never by name.  Sessions
still open keep their own processes until their clients go away
(ClientAliveInterval reaps vanished ones).

Exit status: 0 success, 1 failure, 125 when the OpenSSH binaries are missing
and CI is not set (under CI=true a missing prerequisite is a failure).

Run with /usr/bin/python3; stdlib only.
"""

import argparse
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time

SSHD = '/usr/sbin/sshd'
SSH_KEYGEN = '/usr/bin/ssh-keygen'
SSH = '/usr/bin/ssh'
HOST = '127.0.0.1'
DEFAULT_USER = 'hlm-sshtest'
DEFAULT_HOME = '/var/lib/hlm-sshtest'
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
SKIP = 125


def die(message, status=1):
    print('sshd.py: error: ' + message, file=sys.stderr)
    sys.exit(status)


def under_ci():
    return os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


class Layout:
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def config(self):
        return self.path('sshd_config')

    @property
    def pid_file(self):
        return self.path('sshd.pid')

    @property
    def log(self):
        return self.path('sshd.log')

    @property
    def info(self):
        return self.path('sshd.json')


def run(argv, **kwargs):
    """Runs argv; dies with its output when it fails."""
    proc = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        die('%s failed (exit %d): %s' % (
            ' '.join(argv), proc.returncode,
            (proc.stderr or proc.stdout).strip()))
    return proc


def check_binaries():
    missing = [p for p in (SSHD, SSH_KEYGEN, SSH) if not os.access(p, os.X_OK)]
    if missing:
        message = ('missing %s (apt-get install openssh-server '
                   'openssh-client)' % ', '.join(missing))
        if under_ci():
            die(message + '; CI is set, so this is a failure')
        print('sshd.py: skip: ' + message, file=sys.stderr)
        sys.exit(SKIP)


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As sshd does: a TIME_WAIT leftover does not make the port taken.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def read_pid(layout):
    try:
        with open(layout.pid_file) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def is_our_sshd(pid, layout):
    """True when pid is the sshd started with this DIR's config."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            # The listener rewrites its title to "sshd: /usr/sbin/sshd -f
            # CONFIG ... [listener] ...": one string, not NUL-separated.
            cmdline = f.read().replace(b'\0', b' ')
    except OSError:
        return False
    return b'sshd' in cmdline and layout.config.encode() in cmdline


def locked(user):
    """True when the account's password field starts with '!' (sshd
    without PAM refuses it even for public keys)."""
    try:
        with open('/etc/shadow') as f:
            for line in f:
                fields = line.split(':')
                if fields[0] == user:
                    return fields[1].startswith('!')
    except OSError:
        pass
    return False


def ensure_user(name):
    """Returns the pwd entry of the login user, creating the default test
    account when running as root."""
    is_root = os.geteuid() == 0
    current = pwd.getpwuid(os.geteuid()).pw_name
    if name is None:
        name = DEFAULT_USER if is_root else current
    if not is_root and name != current:
        die('only root can start an sshd for another user (%r)' % name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if name != DEFAULT_USER:
            die('user %r does not exist' % name)
        proc = subprocess.run(
            ['useradd', '--system', '--user-group', '--create-home',
             '--home-dir', DEFAULT_HOME, '--shell', '/bin/sh',
             '--comment', 'hlm ssh transport tests', name],
            capture_output=True, text=True)
        # Another harness may have created it meanwhile (exit 9).
        if proc.returncode not in (0, 9):
            die('useradd %s failed: %s' % (name, proc.stderr.strip()))
        run(['usermod', '-p', '*', name])
        entry = pwd.getpwnam(name)
    if is_root and name == DEFAULT_USER and locked(name):
        run(['usermod', '-p', '*', name])
    if locked(name):
        die("user %r is locked and sshd without PAM refuses it: "
            "usermod -p '*' %s" % (name, name))
    if not os.path.isdir(entry.pw_dir):
        die('home directory %s of %r does not exist' % (entry.pw_dir, name))
    return entry


def check_readable_by(path, entry):
    """sshd reads authorized_keys as the user: every parent must be
    searchable and the file readable by it."""
    if entry.pw_uid == os.geteuid():
        return
    parts = path.split(os.sep)
    for i in range(2, len(parts) + 1):
        p = os.sep.join(parts[:i]) or os.sep
        mode = os.stat(p).st_mode
        need = 0o004 if i == len(parts) else 0o001
        if not mode & need:
            die('%s is not %s for others, so sshd cannot read %s as %r; '
                'use a --dir under a world-searchable directory' % (
                    p, 'readable' if i == len(parts) else 'searchable',
                    path, entry.pw_name))


def keygen(path, comment):
    for p in (path, path + '.pub'):
        if os.path.exists(p):
            os.unlink(p)
    run([SSH_KEYGEN, '-q', '-t', 'ed25519', '-N', '', '-C', comment,
         '-f', path])
    with open(path + '.pub') as f:
        return f.read().split()[:2]


def write(path, text, mode):
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


def sshd_config(layout, port, user, host=HOST, set_env=()):
    """set_env: more NAME=value for the sessions' environment."""
    return '\n'.join([
        '# Written by test/sshd/sshd.py; standalone, /etc/ssh is not read.',
        'Port %d' % port,
        'ListenAddress %s' % host,
        'HostKey %s' % layout.path('ssh_host_ed25519_key'),
        'PidFile %s' % layout.pid_file,
        'AuthorizedKeysFile %s' % layout.path('authorized_keys'),
        'AllowUsers %s' % user,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        # Keys live in a build tree whose modes sshd should not judge.
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        # Tests open many connections at once; the stock 10:30:100 drops
        # some of them.
        'MaxStartups 200:30:400',
        'MaxSessions 100',
        'ClientAliveInterval 5',
        'UseDNS no',
        'PrintMotd no',
        'PrintLastLog no',
        'X11Forwarding no',
        'AllowTcpForwarding no',
        'AllowAgentForwarding no',
        'PermitTunnel no',
        'SetEnv ' + ' '.join(['HLM_TEST_SSHD=%s:%d' % (host, port)]
                             + list(set_env)),
        'LogLevel VERBOSE',
        '',
    ])


def smoke_test(layout, info):
    """One login with the OpenSSH client, so that a broken setup fails here
    with sshd's log rather than later inside a test."""
    proc = subprocess.run(
        [SSH, '-F', '/dev/null', '-T', '-n',
         '-i', info['identity_file'], '-o', 'IdentitiesOnly=yes',
         '-o', 'UserKnownHostsFile=' + info['known_hosts'],
         '-o', 'GlobalKnownHostsFile=/dev/null',
         '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
         '-o', 'ConnectTimeout=5', '-p', str(info['port']),
         '%s@%s' % (info['user'], info.get('host', HOST)), 'echo ok'],
        capture_output=True, text=True, timeout=30)
    if proc.returncode != 0 or proc.stdout != 'ok\n' or proc.stderr:
        return ('test login failed (exit %d)\nstdout: %r\nstderr: %r' % (
            proc.returncode, proc.stdout, proc.stderr))
    return None


def log_tail(layout, lines=20):
    try:
        with open(layout.log, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def cmd_start(layout, port, user_name):
    check_binaries()
    pid = read_pid(layout)
    if pid is not None and is_our_sshd(pid, layout):
        die('already running (pid %d); stop it first' % pid)
    if port is None:
        port = free_port()
    elif not port_is_free(port):
        die('port %d on %s is in use: refusing to start' % (port, HOST))
    entry = ensure_user(user_name)

    os.makedirs(layout.dir, exist_ok=True)
    os.chmod(layout.dir, 0o755)
    for name in ('sshd.json', 'sshd.pid', 'sshd.log'):
        if os.path.exists(layout.path(name)):
            os.unlink(layout.path(name))

    host_key = keygen(layout.path('ssh_host_ed25519_key'), 'hlm-test-host')
    wrong_key = keygen(layout.path('wrong_host_ed25519_key'),
                       'hlm-test-wrong-host')
    user_key = keygen(layout.path('id_ed25519'), 'hlm-test-user')
    keygen(layout.path('id_unauthorized'), 'hlm-test-unauthorized')

    host_pattern = '[%s]:%d' % (HOST, port)
    write(layout.path('known_hosts'),
          '%s %s\n' % (host_pattern, ' '.join(host_key)), 0o644)
    write(layout.path('wrong_known_hosts'),
          '%s %s\n' % (host_pattern, ' '.join(wrong_key)), 0o644)
    write(layout.path('authorized_keys'), ' '.join(user_key) + '\n', 0o644)
    check_readable_by(layout.path('authorized_keys'), entry)
    write(layout.config, sshd_config(layout, port, entry.pw_name), 0o644)

    pid = launch(layout)

    info = {
        'host': HOST,
        'port': port,
        'user': entry.pw_name,
        'identity_file': layout.path('id_ed25519'),
        'known_hosts': layout.path('known_hosts'),
        'wrong_known_hosts': layout.path('wrong_known_hosts'),
        'unauthorized_identity_file': layout.path('id_unauthorized'),
        'pid': pid,
        'config': layout.config,
        'log': layout.log,
    }
    problem = smoke_test(layout, info)
    if problem:
        stop(layout)
        die(problem + '\n' + log_tail(layout))
    with open(layout.info + '.tmp', 'w') as f:
        json.dump(info, f, indent=2)
        f.write('\n')
    os.replace(layout.info + '.tmp', layout.info)
    print('sshd.py: sshd pid %d on %s:%d for user %s; %s' % (
        pid, HOST, port, entry.pw_name, layout.info))


def launch(layout, wrapper=()):
    """Checks layout's sshd_config, starts sshd (under `wrapper`, e.g.
    ['ip', 'netns', 'exec', NS]) and returns its pid once its PidFile,
    written after the listening socket is bound, names it."""
    for name in ('sshd.pid', 'sshd.log'):
        if os.path.exists(layout.path(name)):
            os.unlink(layout.path(name))
    if os.geteuid() == 0:
        # Even `sshd -t` wants the privilege separation directory.
        run(['install', '-d', '-m', '0755', '/run/sshd'])
    run([SSHD, '-t', '-f', layout.config])
    # sshd forks into the background; the launcher exits once it has.
    launcher = subprocess.run(
        list(wrapper) + [SSHD, '-f', layout.config, '-E', layout.log],
        capture_output=True, text=True)
    if launcher.returncode != 0:
        die('sshd failed to start (exit %d): %s\n%s' % (
            launcher.returncode, launcher.stderr.strip(), log_tail(layout)))
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        pid = read_pid(layout)
        if pid is not None and is_our_sshd(pid, layout):
            return pid
        if time.monotonic() > deadline:
            die('sshd wrote no PidFile within %.0f s\n%s' % (
                START_TIMEOUT, log_tail(layout)))
        time.sleep(0.01)


def stop(layout):
    """Stops this DIR's sshd; returns False when it was not running."""
    pid = read_pid(layout)
    if pid is None or not is_our_sshd(pid, layout):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while is_our_sshd(pid, layout):
        if time.monotonic() > deadline:
            print('sshd.py: pid %d still running %.0f s after SIGTERM, '
                  'killing it' % (pid, STOP_TIMEOUT), file=sys.stderr)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + STOP_TIMEOUT
        time.sleep(0.01)
    return True


def cmd_stop(layout):
    if stop(layout):
        print('sshd.py: stopped')
    else:
        print('sshd.py: not running')
    for name in ('sshd.pid', 'sshd.json'):
        try:
            os.unlink(layout.path(name))
        except FileNotFoundError:
            pass


def cmd_status(layout):
    pid = read_pid(layout)
    if pid is None or not is_our_sshd(pid, layout):
        print('sshd.py: not running')
        sys.exit(1)
    print('sshd.py: running, pid %d' % pid)


def main():
    parser = argparse.ArgumentParser(
        description='A real sshd on 127.0.0.1 for hlm ssh transport tests.')
    sub = parser.add_subparsers(dest='command', required=True)
    start = sub.add_parser('start', help='generate keys and start sshd')
    start.add_argument('--dir', required=True)
    start.add_argument('--port', type=int,
                       help='port on 127.0.0.1 (default: a free one)')
    start.add_argument('--user',
                       help='login user (default: %s as root, else the '
                       'current user)' % DEFAULT_USER)
    for name in ('stop', 'status'):
        p = sub.add_parser(name)
        p.add_argument('--dir', required=True)
    args = parser.parse_args()
    layout = Layout(args.dir)
    if args.command == 'start':
        cmd_start(layout, args.port, args.user)
    elif args.command == 'stop':
        cmd_stop(layout)
    else:
        cmd_status(layout)


if __name__ == '__main__':
    main()
