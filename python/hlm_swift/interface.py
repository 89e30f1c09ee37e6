"""SwiftHLM's HTTP interface on the proxy, answered by hlmctl.

A filter in the proxy's pipeline, after the auth middleware (hlmctl(1),
"THE HTTP INTERFACE", gives the lines)::

    [pipeline:main]
    pipeline = ... tempauth hlm ... proxy-server

    [filter:hlm]
    use = egg:hlm_swift#hlm

It takes SwiftHLM's requests and leaves every other one to the pipeline::

    POST /hlm/v1/migrate/<account>/<container>[/<object>]
    POST /hlm/v1/recall/<account>/<container>[/<object>]
    GET  /hlm/v1/status/<account>/<container>[/<object>]
    GET  /hlm/v1/requests/<account>/<container>[/<object>]
    GET  /hlm/v1/requests/<account>           (hlm's: the whole account)

and hlm's own verbs on requests, answered with hlmctl --json's document
(200 whatever became of each; "error" in an element says why)::

    DELETE /hlm/v1/requests/<account>/<container>[/<object>]   hlmctl cancel
    POST   /hlm/v1/retry/<account>/<container>[/<object>]      hlmctl retry
    POST   /hlm/v1/forget/<account>/<container>[/<object>]     hlmctl forget

each of the target's requests, or with ``X-HLM-Request-Id: <id>`` that
one request, which must be of the path's container (else 400). A migrate
or recall takes ``X-HLM-Priority`` (hlmctl --priority) and a recall
``X-HLM-Copies`` (--copies) and ``X-HLM-Days`` (--days); a bad value is a
400.

What it does itself, and all it does:

1. Refuses what SwiftHLM's interface does not have: another version (404),
   another verb (404), a method the verb does not take (405), a path
   without a container (400), and a hidden account, a name starting with
   '.' (403: the request queue lives in one; it is never reachable here).
2. Asks the rest of the pipeline, as the caller, for a HEAD of the
   container (and object): the proxy's own authorization answers, so a
   caller who may not read the container gets Swift's 401 or 403 and
   nothing is queued. A missing container or object gets SwiftHLM's 404
   body, {"error": "..."}. A caller without a token (anonymous access
   through a public ACL) gets 401: the work is done in the caller's name.
3. Runs hlmctl with the caller's token and the proxy's own URL in its
   environment (never on its command line), and answers with what hlmctl
   prints: migrate and recall, SwiftHLM's "Accepted migrate request."
   (200); status and requests, SwiftHLM's JSON bodies (hlmctl --swifthlm),
   streamed as hlmctl writes them, so that a container's status is never
   held in the proxy. With ``Accept: application/json`` the bodies are
   hlmctl --json's documents instead (the request id among them; with
   ``X-HLM-Replicas: yes`` a status carries each replica, as hlmctl status
   --replicas prints them). Every
   answer of a migrate or recall carries ``X-HLM-Request-Id``.

The queue, the status fan-out to the storage nodes, the formats: all are
hlmctl's, so the interface and the command line cannot disagree.

Settings, in the filter's section:

* ``hlmctl``: the program (default: ``hlmctl`` on PATH).
* ``hlm_conf``: the hlm.conf it reads (default: its own default,
  /etc/hlm/hlm.conf).
* ``proxy_url``: where hlmctl reaches this proxy (default: from the
  proxy's bind_ip and bind_port, 0.0.0.0 as 127.0.0.1).
"""

import collections
import json
import os

import eventlet
from eventlet.green import subprocess
from swift.common.swob import Request, Response, wsgi_to_str
from swift.common.utils import get_logger, split_path
from swift.common.wsgi import make_subrequest

VERBS = {'migrate': ('POST',), 'recall': ('POST',),
         'status': ('GET',), 'requests': ('GET', 'DELETE'),
         'retry': ('POST',), 'forget': ('POST',)}
# (verb, method) -> the hlmctl command that changes requests.
MANAGE = {('requests', 'DELETE'): 'cancel', ('retry', 'POST'): 'retry',
          ('forget', 'POST'): 'forget'}
CHUNK = 65536


def error_response(status, message, req=None, content_type=None):
    """SwiftHLM's error body, {"error": message}."""
    return Response(status=status, body=json.dumps({'error': message}),
                    content_type=content_type or 'application/json',
                    request=req)


def read_to_end(proc, stderr):
    """All of a short-lived hlmctl's stdout and the tail of its stderr,
    once it has exited."""
    stdout = b''
    while True:
        chunk = proc.stdout.read(CHUNK)
        if not chunk:
            break
        stdout += chunk
    proc.wait()
    text = stderr.text()
    proc.stdout.close()
    proc.stderr.close()
    return stdout, text


def default_proxy_url(conf):
    ip = conf.get('bind_ip', '0.0.0.0')
    if ip in ('0.0.0.0', ''):
        ip = '127.0.0.1'
    elif ip == '::':
        ip = '::1'
    if ':' in ip:
        ip = '[%s]' % ip
    scheme = 'https' if conf.get('cert_file') else 'http'
    return '%s://%s:%s' % (scheme, ip, conf.get('bind_port', '8080'))


class StderrTail(object):
    """Reads a running hlmctl's stderr to its end in a green thread, so
    that hlmctl never blocks on a full pipe while the proxy waits for its
    stdout, and keeps only the last lines and a count: a status of many
    unanswerable objects writes a line per replica."""

    LINES = 5

    def __init__(self, pipe):
        self.pipe = pipe
        self.lines = collections.deque(maxlen=self.LINES)
        self.count = 0
        self.thread = eventlet.spawn(self.drain)

    def drain(self):
        partial = b''
        while True:
            chunk = self.pipe.read(CHUNK)
            if not chunk:
                break
            lines = (partial + chunk).split(b'\n')
            partial = lines.pop()
            self.count += len(lines)
            self.lines.extend(lines[-self.LINES:])
        if partial:
            self.count += 1
            self.lines.append(partial)

    def text(self):
        """What it read, once hlmctl is done: the last lines, after a count
        of those left out."""
        self.thread.wait()
        shown = '\n'.join(line.decode('utf-8', 'replace').rstrip()
                          for line in self.lines)
        if self.count > len(self.lines):
            shown = '(%d lines, the last %d:)\n%s' % (
                self.count, len(self.lines), shown)
        return shown



class HlmctlOutput(object):
    """The WSGI body of a running hlmctl: its stdout, chunk by chunk; closing
    it (the client went away) stops hlmctl."""

    def __init__(self, proc, stderr, first, logger, what):
        self.proc = proc
        self.stderr = stderr
        self.first = first
        self.logger = logger
        self.what = what

    def __iter__(self):
        if self.first:
            yield self.first
        while True:
            chunk = self.proc.stdout.read(CHUNK)
            if not chunk:
                break
            yield chunk
        self.finish()

    def finish(self):
        status = self.proc.wait()
        stderr = self.stderr.text()
        if status != 0 or stderr:
            self.logger.warning('hlmctl %s exited %d: %s', self.what, status,
                                stderr)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.thread.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()


class HlmInterface(object):
    def __init__(self, app, conf):
        self.app = app
        self.logger = get_logger(conf, log_route='hlm')
        self.hlmctl = conf.get('hlmctl', 'hlmctl')
        self.hlm_conf = conf.get('hlm_conf')
        self.proxy_url = conf.get('proxy_url') or default_proxy_url(conf)

    def __call__(self, env, start_response):
        path = env.get('PATH_INFO', '')
        if not (path == '/hlm' or path.startswith('/hlm/')):
            return self.app(env, start_response)
        req = Request(env)
        return self.handle(req)(env, start_response)

    def handle(self, req):
        try:
            _, version, verb, account, container, obj = split_path(
                req.path_info, 1, 6, True)
        except ValueError:
            return error_response(400, 'use /hlm/v1/<migrate|recall|status|'
                                  'requests>/<account>/<container>[/<object>]')
        verb = (verb or '').lower()
        if version != 'v1' or verb not in VERBS:
            return error_response(404, 'no such SwiftHLM request: %s' %
                                  req.path_info)
        if req.method not in VERBS[verb]:
            allowed = ', '.join(VERBS[verb])
            resp = error_response(405, '%s takes %s' % (verb, allowed))
            resp.headers['Allow'] = allowed
            return resp
        manage = MANAGE.get((verb, req.method))
        # hlm's extension: the requests of a whole account.
        if not account or not (container or (verb == 'requests' and
                                             not manage)):
            return error_response(400, '%s needs /<account>/<container>'
                                  '[/<object>]' % verb)
        if account.startswith('.'):
            return error_response(403, 'hidden accounts are not reachable '
                                  'through /hlm')
        request_id = None
        if manage:
            request_id = req.headers.get('X-HLM-Request-Id')
            if request_id is not None:
                parts = request_id.split('/')
                if len(parts) < 6 or parts[3] != wsgi_to_str(account) or \
                        parts[4] != wsgi_to_str(container):
                    return error_response(400, 'X-HLM-Request-Id names a '
                                          'request of another container '
                                          'than the path')
            # A request of an object that is gone can still be touched:
            # only the container is checked.
            refused = self.check_access(req, account, container, None)
        else:
            refused = self.check_access(req, account, container, obj)
        if refused is not None:
            return refused
        token = req.headers.get('X-Auth-Token') or \
            req.headers.get('X-Storage-Token')
        if not token:
            return error_response(401, 'SwiftHLM requests need a token '
                                  '(X-Auth-Token)')
        if manage:
            return self.run_manage(req, manage, token, account, container,
                                   obj, request_id)
        return self.run_hlmctl(req, verb, token, account, container, obj)

    def check_access(self, req, account, container, obj):
        """None when the caller may read the target and it exists, else the
        answer to give: Swift's own 401/403, or SwiftHLM's 404."""
        if not container:
            targets = [('/v1/%s' % account,
                        'Account /%s does not exist.' % account)]
        else:
            targets = [('/v1/%s/%s' % (account, container),
                        '/account/container /%s/%s does not exist.'
                        % (account, container))]
        if obj:
            targets.append(('/v1/%s/%s/%s' % (account, container, obj),
                            'Object /%s/%s/%s does not exist.'
                            % (account, container, obj)))
        for path, missing in targets:
            sub = make_subrequest(req.environ, method='HEAD', path=path,
                                  swift_source='HLM')
            resp = sub.get_response(self.app)
            if resp.status_int in (401, 403):
                return resp
            if resp.status_int == 404:
                return error_response(404, wsgi_to_str(missing))
            if not resp.is_success:
                return error_response(
                    503, 'cannot check %s: %s' % (wsgi_to_str(path),
                                                  resp.status))
        return None

    def hlmctl_env(self, token, account):
        return {'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
                'HOME': os.environ.get('HOME', '/'),
                'LANG': 'C.UTF-8',
                'OS_AUTH_TOKEN': token,
                'OS_STORAGE_URL': '%s/v1/%s' % (self.proxy_url,
                                                wsgi_to_str(account))}

    def run_manage(self, req, command, token, account, container, obj,
                   request_id):
        """hlmctl cancel|retry|forget --json of one request id or the
        target; its document, 200, whatever became of each request."""
        name = request_id if request_id is not None else wsgi_to_str(
            '/'.join(p for p in (account, container, obj) if p))
        argv = [self.hlmctl, command]
        if self.hlm_conf:
            argv += ['--config', self.hlm_conf]
        argv += ['--json', '--', name]
        what = '%s %s' % (command, name)
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE,
                                    env=self.hlmctl_env(token, account))
        except OSError as e:
            self.logger.error('cannot run %s: %s', self.hlmctl, e)
            return error_response(503, 'cannot run hlmctl: %s' % e.strerror)
        stderr = StderrTail(proc.stderr)
        stdout, text = read_to_end(proc, stderr)
        try:
            json.loads(stdout)['requests']
        except (ValueError, KeyError, TypeError):
            return self.failed(what, proc.returncode, text)
        return Response(status=200, body=stdout,
                        content_type='application/json')

    def run_hlmctl(self, req, verb, token, account, container, obj):
        json_wanted = 'application/json' in req.headers.get('Accept', '')
        target = wsgi_to_str('/'.join(
            p for p in (account, container, obj) if p))
        argv = [self.hlmctl, verb]
        if self.hlm_conf:
            argv += ['--config', self.hlm_conf]
        if verb in ('migrate', 'recall') or json_wanted:
            argv.append('--json')
            # hlmctl --priority and (recall) --copies and --days ride in
            # headers; hlmctl checks their values.
            for header, option in (('X-HLM-Priority', '--priority'),
                                   ('X-HLM-Copies', '--copies'),
                                   ('X-HLM-Days', '--days')):
                value = req.headers.get(header)
                if value is not None and (verb == 'recall' or
                                          option == '--priority'):
                    argv += [option, value]
            if verb == 'status' and req.headers.get('X-HLM-Replicas'):
                # hlmctl status --replicas over this interface asks for
                # each replica's state with this header.
                argv.append('--replicas')
        else:
            argv.append('--swifthlm')
        if container:
            argv += ['--', target]
        # else: requests of the whole account, the storage URL's
        env = self.hlmctl_env(token, account)
        what = '%s %s' % (verb, target)
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
        except OSError as e:
            self.logger.error('cannot run %s: %s', self.hlmctl, e)
            return error_response(503, 'cannot run hlmctl: %s' % e.strerror)
        stderr = StderrTail(proc.stderr)
        if verb in ('migrate', 'recall'):
            return self.submitted(proc, stderr, verb, what, json_wanted)
        # Status and requests stream: the answer's status is decided by
        # whether hlmctl writes anything before it exits.
        first = proc.stdout.read(CHUNK)
        if not first:
            status = proc.wait()
            text = stderr.text()
            proc.stdout.close()
            proc.stderr.close()
            return self.failed(what, status, text)
        return Response(status=200, app_iter=HlmctlOutput(
            proc, stderr, first, self.logger, what), request=req,
            content_type='application/json' if json_wanted
            else 'text/plain')

    def submitted(self, proc, stderr, verb, what, json_wanted):
        stdout, text = read_to_end(proc, stderr)
        try:
            result = json.loads(stdout)['requests'][0]
        except (ValueError, KeyError, IndexError, TypeError):
            if proc.returncode == 2:
                # A usage error: a bad X-HLM-Priority or X-HLM-Copies
                # (CLI11 ends its message with a pointer to --help).
                lines = [line for line in text.splitlines() if line.strip()
                         and not line.startswith('Run with --help')]
                return error_response(400, lines[0] if lines else
                                      'bad request')
            return self.failed(what, proc.returncode, text)
        if 'error' in result:
            # Refused between our check and hlmctl's (deleted meanwhile).
            status = result.get('http_status') or 503
            return error_response(status if 400 <= status < 600 else 503,
                                  result['error'])
        if json_wanted:
            resp = Response(status=200, body=stdout,
                            content_type='application/json')
        else:
            resp = Response(status=200, body='Accepted %s request.\n' % verb,
                            content_type='text/plain')
        # hlmctl's outcome: queued, already_queued (the pending request's
        # id) or on_disk (a recall with nothing to do: no id).
        if 'id' in result:
            resp.headers['X-HLM-Request-Id'] = result['id']
        resp.headers['X-HLM-Outcome'] = result.get('outcome', 'queued')
        return resp

    def failed(self, what, status, stderr):
        message = stderr.strip() or \
            'hlmctl exited %d' % status
        self.logger.error('hlmctl %s exited %d: %s', what, status, message)
        return error_response(503, message.splitlines()[-1])


def filter_factory(global_conf, **local_conf):
    conf = global_conf.copy()
    conf.update(local_conf)

    def hlm_filter(app):
        return HlmInterface(app, conf)
    return hlm_filter
