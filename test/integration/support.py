"""Shared helpers for the integration scripts: the running test cluster
(test/saio/saio.py) and the built tools, both named by the environment that
test/integration/CMakeLists.txt sets."""

import collections
import configparser
import glob
import http.client
import json
import os
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request

SKIP = 125


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def env(name):
    value = os.environ.get(name)
    if not value:
        fail("%s is not set; run this through ctest" % name)
    return value


def cluster():
    with open(os.path.join(env("HLM_SAIO_DIR"), "cluster.json")) as f:
        return json.load(f)


def run(argv, stdin=b"", check_status=None):
    """Runs argv with `stdin`; returns (status, stdout, stderr)."""
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=300)
    if check_status is not None and proc.returncode != check_status:
        fail("%s exited %d, expected %d\nstdout: %s\nstderr: %s" % (
            argv, proc.returncode, check_status,
            proc.stdout.decode(errors="replace")[:2000],
            proc.stderr.decode(errors="replace")[:2000]))
    return proc.returncode, proc.stdout, proc.stderr


def lower_keys(headers):
    return {k.lower(): v for k, v in headers.items()}


class Swift:
    """Just enough of a Swift client (tempauth v1) to set up test data
    through the real proxy."""

    def __init__(self, user="test:tester"):
        info = cluster()
        entry = next(u for u in info["users"] if u["user"] == user)
        req = urllib.request.Request(info["auth_url"], headers={
            "X-Auth-User": entry["user"], "X-Auth-Key": entry["key"]})
        with urllib.request.urlopen(req, timeout=30) as resp:
            self.token = resp.headers["X-Auth-Token"]
            self.url = resp.headers["X-Storage-Url"]
        self.account = entry["account"]

    def request(self, method, path, body=None, headers=None):
        status, _, data = self.request_full(method, path, body, headers)
        return status, data

    def request_full(self, method, path, body=None, headers=None):
        """As request(), with the answer's headers, names in lower case:
        (status, headers, body)."""
        req = urllib.request.Request(self.url_of(path), data=body, method=method)
        req.add_header("X-Auth-Token", self.token)
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, lower_keys(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, lower_keys(e.headers), e.read()

    def url_of(self, path):
        """The URL of `path`: in the account, or at the proxy's root when
        it starts with '/' (/hlm/v1/...)."""
        quoted = urllib.parse.quote(path, safe="/")
        if path.startswith("/"):
            url = urllib.parse.urlsplit(self.url)
            return "%s://%s%s" % (url.scheme, url.netloc, quoted)
        return self.url + "/" + quoted

    def open_stream(self, method, path):
        """Starts a request whose answer the caller reads bit by bit:
        returns (connection, http.client.HTTPResponse)."""
        url = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        conn.request(method, urllib.parse.urlsplit(self.url_of(path)).path,
                     headers={"X-Auth-Token": self.token})
        return conn, conn.getresponse()

    def put_container(self, name, policy=None):
        headers = {"X-Storage-Policy": policy} if policy else {}
        status, _ = self.request("PUT", name, b"", headers)
        check(status in (201, 202), "PUT container %s: %d" % (name, status))

    def put_object(self, container, name, body):
        status, _ = self.request("PUT", container + "/" + name, body)
        check(status == 201, "PUT %s/%s: %d" % (container, name, status))


def connector_confs(info, work, connector, settings_for):
    """Copies of the cluster's object-server confs (in WORK/object-server)
    whose [hlm] section selects `connector`, with the settings
    `settings_for(server)` returns for each server ("1".."4"). Returns the
    conf directory."""
    conf_dir = os.path.join(work, "object-server")
    os.makedirs(conf_dir)
    for path in sorted(glob.glob(os.path.join(info["dir"], "etc", "object-server", "*.conf"))):
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path)
        parser.remove_section("hlm:dummy")
        parser["hlm"]["connector"] = connector
        parser["hlm:" + connector] = settings_for(os.path.basename(path)[:-5])
        with open(os.path.join(conf_dir, os.path.basename(path)), "w") as f:
            parser.write(f)
    return conf_dir


def tapesim_confs(info, work, settings, shared_library=False):
    """connector_confs for tapesim with `settings`: one library per object
    server, or one for all of them. Returns (conf dir, libraries)."""
    libraries = []

    def settings_for(server):
        library = os.path.join(work, "library" if shared_library else "library-" + server)
        if library not in libraries:
            libraries.append(library)
        return dict(settings, library=library)

    return connector_confs(info, work, "tapesim", settings_for), libraries


def write_hlm_conf(path, extra="", object_server_conf=None, dispatch=""):
    """An hlm.conf for the test cluster: every ring IP (127.0.0.1) is this
    host, reached with the local transport, the built hlm-handler serving
    all four object servers in one call (their confs: the cluster's own, or
    `object_server_conf`). `dispatch`: more [dispatch] lines, e.g.
    "max_attempts = 1\n" for a test that expects a failure to reach the
    failed queue at once (the default retries it in later runs)."""
    info = cluster()
    text = """[hlm]
swift_dir = {swift_dir}
[dispatch]
batch_size = 1000
max_parallel_nodes = 4
lock_file = {dir}/run/hlm-dispatch.lock
{dispatch}[nodes]
local_addresses = 127.0.0.1
handler = {handler}
object_server_conf = {dir}/etc/object-server
""".format(swift_dir=info["swift_dir"], dir=info["dir"], handler=env("HLM_HANDLER"),
           dispatch=dispatch)
    if object_server_conf:
        text = text.replace(os.path.join(info["dir"], "etc", "object-server"),
                            object_server_conf)
    with open(path, "w") as f:
        f.write(text + extra)
    return path


def tool_env(config):
    """The environment for hlmctl / hlm-dispatch: the tester's credentials
    (python-swiftclient's variables) and the config file."""
    info = cluster()
    tester = next(u for u in info["users"] if u["user"] == "test:tester")
    e = dict(os.environ)
    e.update({"ST_AUTH": info["auth_url"], "ST_USER": tester["user"],
              "ST_KEY": tester["key"], "HLM_CONF": config})
    for name in ("OS_AUTH_URL", "OS_AUTH_TOKEN", "OS_STORAGE_URL"):
        e.pop(name, None)
    return e


def run_tool(argv, config, stdin=b"", status=None, env_overrides=None):
    e = tool_env(config)
    e.update(env_overrides or {})
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=600, env=e)
    if status is not None and proc.returncode != status:
        fail("%s exited %d, expected %d\nstdout: %s\nstderr: %s" % (
            argv, proc.returncode, status,
            proc.stdout.decode(errors="replace")[:3000],
            proc.stderr.decode(errors="replace")[:3000]))
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def hlmctl(config, *args, status=0, env_overrides=None):
    """Runs the built hlmctl with `config`: (exit status, stdout, stderr)."""
    return run_tool([env("HLMCTL")] + list(args), config, status=status,
                    env_overrides=env_overrides)


def queued_ids(config, target):
    """(pending ids, failed ids) of hlmctl requests --json TARGET."""
    _, out, _ = hlmctl(config, "requests", "--json", target)
    doc = json.loads(out)
    return [p["id"] for p in doc["pending"]], [f["id"] for f in doc["failed"]]


def dispatch_once(config, *extra, status=0):
    """Runs hlm-dispatch --once --json [extra] with `config`, prints its
    report line and returns it parsed."""
    _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json"] + list(extra), config,
                         status=status)
    print("    hlm-dispatch --once%s: %s" % ("".join(" " + e for e in extra), out.strip()))
    return json.loads(out.strip().splitlines()[-1])


def tapesim_query(library, sql, args=()):
    """Rows of `sql` on a tapesim library's index."""
    db = sqlite3.connect(os.path.join(library, "index.sqlite"))
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def migrations(info, container):
    """(object, file) → how many migrate operations the dummy backends
    applied to objects of AUTH_test/`container`."""
    counts = collections.Counter()
    for node in info["nodes"]:
        if not os.path.exists(node["hlm_db_path"]):
            continue
        db = sqlite3.connect(node["hlm_db_path"])
        for obj, path in db.execute(
                "SELECT object, file FROM operations WHERE operation = 'migrate' "
                "AND object LIKE ?", ("/AUTH_test/%s/%%" % container,)):
            counts[(obj, path)] += 1
        db.close()
    return counts


def object_states(document):
    """{object: merged state} from hlmctl status --json's output (text or
    parsed): each object's value there is its state, or with --replicas
    {"state", "readable", "replicas"}."""
    if isinstance(document, (str, bytes)):
        document = json.loads(document)
    return {name: value if isinstance(value, str) else value["state"]
            for name, value in document["objects"].items()}
