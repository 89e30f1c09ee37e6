"""hlm-dispatch stopped at every point of a run loses no request.

For each fault point of the dispatcher's test hook (HLM_DISPATCH_FAULT, see
lib/hlm/dispatch/fault_point.hpp), and for a SIGKILL while a handler call
runs: queue requests that succeed (dummy connector migrates: single
objects, and a whole container) and requests that fail (their storage
policy, 7, has no ring), run hlm-dispatch --once until it dies there
(exit 86), check the queue is where that point says, then run it cleanly
until the pending queue is empty. Then: every succeeding request's objects
are migrated on every replica (the dummy backends' sqlite records), none is
left pending or failed; every failing request is in the failed queue
exactly once, with its reason ("after 2 attempts: ..." where it was
retried); a migrate repeated by the rerun did no harm. Also: an attempt not
due yet is deferred, and hlm-dispatch --loop picks it up when it is; and a
whole-container request some of whose objects fail (their replicas gone from
disk), stopped after the first failed object's own row (object-row-put),
ends with its good objects migrated and each failed object in the failed
queue exactly once, with its reason. Spill: with max_failed_objects = 2, a
container request 5 of whose objects fail on one node (their replica's
.data file there moved aside) leaves exactly those 5 as one list request
that waits for its retry time, and is gone; once the files are back and
the retry is due, the list completes and nothing is left; stopped right
after the list's row (spill-put), the container request is still pending,
and clean runs end the same way."""

import collections
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, env, fail, run_tool,  # noqa: E402
                     tool_env, write_hlm_conf)
from stubs import replica_files  # noqa: E402

A = "AUTH_test"
OBJECTS = 3          # single-object requests per scenario
CONTAINER_OBJECTS = 2  # objects of the whole-container request
BAD = 2              # requests that fail
FAULT_EXIT = 86
BAD_POLICY = 7
MAX_RUNS = 4         # clean runs allowed to drain the queue


class Queue:
    """Writes pending rows the way SwiftHLM and hlmctl do, with Swift's own
    direct client (for requests hlmctl would refuse: a policy with no ring)."""

    def __init__(self, info):
        sys.path.insert(0, env("HLM_SAIO_TOOLS"))
        import saio  # noqa: E402
        saio.use_swift_conf(info["swift_dir"])
        from swift.common.direct_client import direct_put_container_object
        from swift.common.ring import Ring
        from swift.common.utils import Timestamp
        self.put = direct_put_container_object
        self.timestamp = Timestamp
        ring = Ring(info["swift_dir"], ring_name="container")
        self.part, self.nodes = ring.get_nodes(".swifthlm", "pending-hlm-requests")

    def submit_bad(self, container, name):
        now = time.time()
        submitted = time.strftime("%Y%m%d%H%M%S", time.gmtime(now)) + ".%03d" % (now % 1 * 1000)
        row = "/%s/migrate/%s/%s/%d/%s" % (submitted, A, container, BAD_POLICY, name)
        for node in self.nodes:
            self.put(node, self.part, ".swifthlm", "pending-hlm-requests", row,
                     headers={"X-Timestamp": self.timestamp(now).internal, "X-Size": "0",
                              "X-Etag": "d41d8cd98f00b204e9800998ecf8427e",
                              "X-Content-Type": "application/swifthlm-task"})
        time.sleep(0.002)  # distinct, ordered ids
        return row


def backend_records(info, containers):
    """object → (replica files migrated now, migrate operations applied)."""
    migrated = collections.Counter()
    operations = collections.Counter()
    for node in info["nodes"]:
        if not os.path.exists(node["hlm_db_path"]):
            continue
        db = sqlite3.connect(node["hlm_db_path"])
        for container in containers:
            like = "/%s/%s/%%" % (A, container)
            for obj, state in db.execute("SELECT object, state FROM objects WHERE object LIKE ?",
                                         (like,)):
                if state == "migrated":
                    migrated[obj] += 1
            for (obj,) in db.execute("SELECT object FROM operations WHERE operation = 'migrate' "
                                     "AND object LIKE ?", (like,)):
                operations[obj] += 1
        db.close()
    return migrated, operations


class Scenario:
    def __init__(self, info, swift, queue, name, conf):
        self.info, self.queue, self.name, self.conf = info, queue, name, conf
        self.objects_container = "crash-%s" % name
        self.whole_container = "crash-%s-c" % name
        swift.put_container(self.objects_container)
        swift.put_container(self.whole_container)
        self.objects = []
        for i in range(OBJECTS):
            swift.put_object(self.objects_container, "o%d" % i, b"x")
            self.objects.append("/%s/%s/o%d" % (A, self.objects_container, i))
        for i in range(CONTAINER_OBJECTS):
            swift.put_object(self.whole_container, "c%d" % i, b"y")
            self.objects.append("/%s/%s/c%d" % (A, self.whole_container, i))

    def submit(self):
        """Succeeding requests first (so the failing ones come in a later
        group of the run), then the failing ones."""
        targets = ["%s/%s/o%d" % (A, self.objects_container, i) for i in range(OBJECTS)]
        targets.append("%s/%s" % (A, self.whole_container))
        _, out, _ = run_tool([env("HLMCTL"), "migrate", "--json"] + targets, self.conf, status=0)
        self.good = [r["id"] for r in json.loads(out)["requests"]]
        check(len(self.good) == len(targets), "%s: queued %r" % (self.name, out))
        # The objects each succeeding request is about.
        self.good_objects = {self.good[i]: [self.objects[i]] for i in range(OBJECTS)}
        self.good_objects[self.good[OBJECTS]] = self.objects[OBJECTS:]
        self.bad = [self.queue.submit_bad(self.objects_container, "bad%d" % i) for i in range(BAD)]
        return len(self.good) + len(self.bad)

    def requests(self):
        """(pending {id: item}, failed [items]) for both containers."""
        pending, failed = {}, []
        for container in (self.objects_container, self.whole_container):
            _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "%s/%s" % (A, container)],
                                 self.conf, status=0)
            listed = json.loads(out)
            pending.update((item["id"], item) for item in listed["pending"])
            failed += listed["failed"]
        return pending, failed

    def dispatch(self, conf=None, fault=None, status=None):
        overrides = {"HLM_DISPATCH_FAULT": fault} if fault else {}
        code, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json", "-q"],
                                  conf or self.conf, status=status, env_overrides=overrides)
        return code, (json.loads(out) if out.strip() else None), err

    def drain(self):
        """Clean runs until nothing of this scenario is pending; their exit
        statuses and reports."""
        runs = []
        for _ in range(MAX_RUNS):
            code, report, err = self.dispatch()
            check(code in (0, 3), "%s: clean run exited %d: %s" % (self.name, code, err[-2000:]))
            runs.append((code, report))
            pending, _ = self.requests()
            if not pending:
                break
        return runs

    def verify(self, expected_reason_prefix, repeated_expected):
        """Checks the end state; returns the figures."""
        pending, failed = self.requests()
        failed_ids = [item["id"] for item in failed]
        migrated, operations = backend_records(self.info, (self.objects_container,
                                                           self.whole_container))
        lost = [o for o in self.objects if migrated[o] != 3]
        stuck = sorted(pending)
        check(not stuck, "%s: stuck in pending: %r" % (self.name, pending))
        check(not lost, "%s: objects not migrated on every replica: %r (%r)"
              % (self.name, lost, dict(migrated)))
        good_failed = [i for i in failed_ids if i in self.good]
        check(not good_failed, "%s: succeeding requests in the failed queue: %r"
              % (self.name, good_failed))
        check(sorted(failed_ids) == sorted(self.bad),
              "%s: the failed queue holds %r, expected each of %r exactly once"
              % (self.name, failed_ids, self.bad))
        for item in failed:
            reason = item["reason"]
            check(reason.startswith(expected_reason_prefix)
                  and "storage policy %d is not in" % BAD_POLICY in reason
                  and "after 2 attempts: after" not in reason,
                  "%s: reason of %s: %r" % (self.name, item["id"], reason))
        repeated = sum(1 for o in self.objects if operations[o] > 3)
        too_many = [o for o in self.objects if operations[o] > 6]
        check(not too_many, "%s: migrated more than twice: %r" % (self.name, too_many))
        if repeated_expected:
            check(repeated > 0, "%s: expected the rerun to repeat migrates: %r"
                  % (self.name, dict(operations)))
        completed = [i for i, objects in self.good_objects.items()
                     if i not in pending and i not in failed_ids
                     and all(migrated[o] == 3 for o in objects)]
        return {"queued": len(self.good) + len(self.bad), "completed": len(completed),
                "failed": len(failed_ids), "lost": len(lost), "stuck": len(stuck),
                "objects migrated twice": repeated}


def expect_after_fault(scenario, point, queued):
    """The queue as the point says a run left it."""
    pending, failed = scenario.requests()
    migrated, operations = backend_records(scenario.info, (scenario.objects_container,
                                                           scenario.whole_container))
    applied = sum(operations.values())
    failed_ids = [item["id"] for item in failed]
    first_bad = scenario.bad[0]
    if point == "listed":
        check(len(pending) == queued and not failed and applied == 0,
              "listed: %d pending, %r failed, %d applied" % (len(pending), failed_ids, applied))
    elif point == "sent":
        check(len(pending) == queued and not failed and applied > 0,
              "sent: %d pending, %r failed, %d applied" % (len(pending), failed_ids, applied))
    elif point == "completed":
        check(len(pending) == queued - 1 and not failed,
              "completed: %d pending, %r failed" % (len(pending), failed_ids))
    elif point == "failed-put":
        check(first_bad in pending and failed_ids == [first_bad],
              "failed-put: the first failing request in both queues: %r / %r"
              % (sorted(pending), failed_ids))
    elif point == "retry-put":
        check(pending[first_bad]["attempts"] == 1 and pending[scenario.bad[1]]["attempts"] == 0
              and not failed, "retry-put: %r" % pending)
    elif point == "kill":
        check(len(pending) == queued and not failed and applied > 0,
              "kill: %d pending, %r failed, %d applied" % (len(pending), failed_ids, applied))


def slow_handler(work):
    """A handler that does its work (hlm-handler), then waits 20 s before it
    answers: the wait is a child whose process id it leaves in a file, so
    the test knows the work is done and can end the wait by its id."""
    path = os.path.join(work, "slow-handler")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nout=$(\"%s\" \"$@\")\nstatus=$?\nsleep 20 &\n"
                "echo $! > %s/slow-sleep.pid.tmp\nmv %s/slow-sleep.pid.tmp %s/slow-sleep.pid\n"
                "wait $!\nprintf '%%s' \"$out\"\nexit $status\n"
                % (env("HLM_HANDLER"), work, work, work))
    os.chmod(path, 0o755)
    return path


def kill_during_handler(scenario, slow_conf, work):
    """SIGKILL hlm-dispatch while its handler call runs, after the backend
    applied the migrates and before the dispatcher heard of it."""
    pid_file = os.path.join(work, "slow-sleep.pid")
    proc = subprocess.Popen([env("HLM_DISPATCH"), "--once", "-q"], env=tool_env(slow_conf),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(pid_file) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not os.path.exists(pid_file):
        proc.kill()
        proc.wait()
        fail("the slow handler did not get to its wait (hlm-dispatch: %r)" % proc.returncode)
    check(proc.poll() is None, "hlm-dispatch ended before the kill")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    with open(pid_file) as f:
        pid = int(f.read())
    os.unlink(pid_file)
    try:
        os.kill(pid, signal.SIGTERM)  # the handler's wait; the handler then ends
    except ProcessLookupError:
        pass
    _, operations = backend_records(scenario.info, (scenario.objects_container,
                                                    scenario.whole_container))
    check(sum(operations.values()) == len(scenario.objects) * 3,
          "kill: the backend applied %r before the kill" % dict(operations))
    return proc.returncode


def deferral_and_loop(info, swift, queue, work):
    """A failed attempt whose retry is not due is deferred; --loop picks it
    up when it is."""
    conf = write_hlm_conf(os.path.join(work, "defer.conf"),
                          dispatch="max_attempts = 2\nretry_delay = 3\n")
    swift.put_container("crash-defer")
    bad = queue.submit_bad("crash-defer", "x")
    _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json", "-q"], conf, status=3)
    report = json.loads(out)
    check(report["retrying"] == 1, "first attempt: %r" % report)
    _, out, _ = run_tool([env("HLM_DISPATCH"), "--once", "--json", "-q"], conf, status=0)
    report = json.loads(out)
    check(report["deferred"] == 1 and report["objects"] == 0 and report["retrying"] == 0,
          "second run before the retry is due: %r" % report)
    loop = subprocess.Popen([env("HLM_DISPATCH"), "--loop", "--interval", "1", "-q"],
                            env=tool_env(conf), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        failed = []
        while time.monotonic() < deadline and not failed:
            time.sleep(0.5)
            _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", A + "/crash-defer"], conf,
                                 status=0)
            failed = json.loads(out)["failed"]
        check([f["id"] for f in failed] == [bad]
              and failed[0]["reason"].startswith("after 2 attempts: storage policy 7"),
              "--loop took the due retry: %r" % failed)
    finally:
        loop.send_signal(signal.SIGTERM)
        loop.wait(timeout=30)
    print("deferred until due, then taken by --loop")


def object_row_put(info, swift, conf):
    """A container request with good and failing objects (every replica's
    .data file removed: "not on this device", transient), settled object by
    object: stopped right after the first failed object's own row, then
    run cleanly."""
    container = "crash-object-row-put"
    swift.put_container(container)
    good = ["c0", "c1", "c2"]
    failing = ["f0", "f1"]
    for name in good + failing:
        swift.put_object(container, name, b"z")
    for name in failing:
        files = replica_files(info, "/%s/%s/%s" % (A, container, name))
        check(len(files) == 3, "object-row-put: replicas of %s: %r" % (name, files))
        for path in files:
            os.unlink(path)
    _, out, _ = run_tool([env("HLMCTL"), "migrate", "--json", "%s/%s" % (A, container)], conf,
                         status=0)
    container_id = json.loads(out)["requests"][0]["id"]
    object_ids = {name: container_id + "/" + name for name in failing}

    def requests():
        _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "%s/%s" % (A, container)],
                             conf, status=0)
        listed = json.loads(out)
        return {item["id"]: item for item in listed["pending"]}, listed["failed"]

    code, _, err = run_tool([env("HLM_DISPATCH"), "--once", "--json", "-q"], conf,
                            env_overrides={"HLM_DISPATCH_FAULT": "object-row-put"})
    check(code == FAULT_EXIT, "object-row-put: hlm-dispatch exited %d, not %d at the fault "
          "point: %s" % (code, FAULT_EXIT, err[-2000:]))
    pending, failed = requests()
    # The container row as it was (no attempt counted); exactly one failed
    # object's own row, its first attempt counted; nothing failed yet.
    written = [name for name in failing if object_ids[name] in pending]
    check(container_id in pending and pending[container_id]["attempts"] == 0
          and len(written) == 1 and pending[object_ids[written[0]]]["attempts"] == 1
          and len(pending) == 2 and not failed,
          "object-row-put: after the fault: %r / %r" % (sorted(pending), failed))
    print("object-row-put: stopped after the row of %s" % written[0])

    runs = []
    for _ in range(MAX_RUNS):
        code, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json", "-q"], conf)
        check(code in (0, 3), "object-row-put: clean run exited %d: %s" % (code, err[-2000:]))
        runs.append(code)
        pending, failed = requests()
        if not pending:
            break
    check(not pending, "object-row-put: stuck in pending: %r" % pending)
    failed_ids = sorted(item["id"] for item in failed)
    check(failed_ids == sorted(object_ids.values()),
          "object-row-put: the failed queue holds %r, expected each of %r exactly once"
          % (failed_ids, sorted(object_ids.values())))
    for item in failed:
        check(item["reason"].startswith("after 2 attempts: ")
              and "not on this device" in item["reason"]
              and item["target"].endswith("/" + item["id"].rsplit("/", 1)[1]),
              "object-row-put: reason of %s: %r" % (item["id"], item["reason"]))
    migrated, _ = backend_records(info, (container,))
    for name in good:
        path = "/%s/%s/%s" % (A, container, name)
        check(migrated[path] == 3, "object-row-put: %s migrated on %d replicas" % (path,
                                                                                  migrated[path]))
    for name in failing:
        path = "/%s/%s/%s" % (A, container, name)
        check(migrated[path] == 0, "object-row-put: %s migrated: %r" % (path, dict(migrated)))
    print("object-row-put: clean runs %r; %d good objects migrated, failed: %s"
          % (runs, len(good), ", ".join(failed_ids)))


SPILL_OBJECTS = 8
SPILL_FAILING = ["s1", "s2", "s4", "s5", "s7"]
RETRY_DUE = {"HLM_DISPATCH_CLOCK_OFFSET": "120"}  # past retry_delay = 60


class Spill:
    """A container whose SPILL_FAILING objects fail on one node: each one's
    replica on node 1 (the .data file moved aside) or, where it has none
    there, on the lowest node it has one."""

    def __init__(self, info, swift, conf, name):
        self.info, self.conf = info, conf
        self.container = "crash-spill-%s" % name
        swift.put_container(self.container)
        self.names = ["s%d" % i for i in range(SPILL_OBJECTS)]
        for name in self.names:
            swift.put_object(self.container, name, b"s")
        self.aside = []
        for name in SPILL_FAILING:
            files = replica_files(info, self.path(name))
            check(len(files) == 3, "spill: replicas of %s: %r" % (name, files))
            node1 = [f for f in files if "/1/node/" in f]
            path = (node1 or files)[0]
            os.rename(path, path + ".aside")
            self.aside.append(path)
        _, out, _ = run_tool([env("HLMCTL"), "migrate", "--json", "%s/%s" % (A, self.container)],
                             conf, status=0)
        self.id = json.loads(out)["requests"][0]["id"]

    def path(self, name):
        return "/%s/%s/%s" % (A, self.container, name)

    def fix(self):
        for path in self.aside:
            os.rename(path + ".aside", path)

    def requests(self):
        _, out, _ = run_tool([env("HLMCTL"), "requests", "--json", "%s/%s" % (A, self.container)],
                             self.conf, status=0)
        return json.loads(out)

    def dispatch(self, status=None, overrides=None):
        code, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], self.conf,
                                  status=status, env_overrides=overrides)
        return code, json.loads(out.strip().splitlines()[-1]) if out.strip() else None, err

    def check_lists(self, what, lists_expected):
        """Only list requests pending, each of exactly the failing objects
        (hlmctl requests shows their counts; the manifests' names are
        checked by the clean end: each failing object migrated)."""
        doc = self.requests()
        lists = [item for item in doc["pending"] if "list" in item]
        check(len(lists) == lists_expected and len(doc["pending"]) == lists_expected
              and not doc["failed"]
              and all(item["objects"] == len(SPILL_FAILING) and item["objects_done"] == 0
                      and item["operation"] == "migrate" for item in lists),
              "spill %s: %r" % (what, doc))
        return lists

    def finish(self, what, lists):
        """After the fix, with the retry due: the `lists` list requests
        complete, exactly their objects sent, and nothing is left; every
        object migrated on every replica."""
        self.fix()
        code, report, err = self.dispatch(overrides=RETRY_DUE)
        check(code == 0 and report["completed"] == lists
              and report["objects"] == len(SPILL_FAILING) * lists,
              "spill %s: the retry: %d %r %s" % (what, code, report, err[-2000:]))
        doc = self.requests()
        check(not doc["pending"] and not doc["failed"], "spill %s: left: %r" % (what, doc))
        migrated, _ = backend_records(self.info, (self.container,))
        not_migrated = [n for n in self.names if migrated[self.path(n)] != 3]
        check(not not_migrated, "spill %s: not migrated on every replica: %r (%r)"
              % (what, not_migrated, dict(migrated)))


def spill(info, swift, work):
    """max_failed_objects = 2 and 5 objects failing: a list request of
    exactly those 5, deferred until due, done once the node is fixed."""
    conf = write_hlm_conf(os.path.join(work, "spill.conf"),
                          dispatch="max_attempts = 3\nretry_delay = 60\n"
                          "max_failed_objects = 2\n")
    s = Spill(info, swift, conf, "plain")
    code, report, err = s.dispatch()
    check(code == 3 and report["retrying"] == 1 and report["failed"] == 0,
          "spill: the first run: %d %r %s" % (code, report, err[-2000:]))
    check("5 of its objects failed and stay as requests of their own (5 to retry in 1 list "
          "request, 0 to the failed queue)" in err,
          "spill: what the run says: %s" % err[-2000:])
    s.check_lists("after the first run", 1)
    # Not due yet: the list waits, nothing is sent.
    code, report, _ = s.dispatch()
    check(code == 0 and report["deferred"] == 1 and report["objects"] == 0,
          "spill: a run before the retry is due: %d %r" % (code, report))
    s.finish("plain", 1)
    print("spill: 5 failed objects kept as one list request, deferred, then done")

    # Stopped right after the list's row: the container request is still
    # pending; a clean run works it again (another list of the same 5).
    s = Spill(info, swift, conf, "put")
    code, _, err = run_tool([env("HLM_DISPATCH"), "--once", "-q"], conf,
                            env_overrides={"HLM_DISPATCH_FAULT": "spill-put"})
    check(code == FAULT_EXIT, "spill-put: hlm-dispatch exited %d, not %d at the fault point: %s"
          % (code, FAULT_EXIT, err[-2000:]))
    doc = s.requests()
    pending_ids = [item["id"] for item in doc["pending"]]
    lists = [item for item in doc["pending"] if "list" in item]
    check(s.id in pending_ids and len(lists) == 1 and lists[0]["objects"] == len(SPILL_FAILING)
          and len(pending_ids) == 2 and not doc["failed"],
          "spill-put: after the fault: %r" % doc)
    code, report, err = s.dispatch()
    check(code == 3 and report["retrying"] == 1 and report["deferred"] == 1,
          "spill-put: the clean run: %d %r %s" % (code, report, err[-2000:]))
    s.check_lists("after the clean run", 2)
    s.finish("put", 2)
    print("spill-put: the container request stayed pending; both lists done")


def main():
    started = time.monotonic()
    info = cluster()
    work = os.path.join(info["dir"], "crash-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    swift = Swift()
    queue = Queue(info)
    # Two attempts, the second due at once: the failing requests go through
    # the retry path in the clean runs; one attempt where the fault point
    # is the move to the failed queue.
    retry_conf = write_hlm_conf(os.path.join(work, "retry.conf"),
                                dispatch="max_attempts = 2\nretry_delay = 0\n")
    single_conf = write_hlm_conf(os.path.join(work, "single.conf"), dispatch="max_attempts = 1\n")
    slow_conf = write_hlm_conf(os.path.join(work, "slow.conf"),
                               dispatch="max_attempts = 2\nretry_delay = 0\n")
    with open(slow_conf) as f:
        text = f.read().replace("handler = " + env("HLM_HANDLER"), "handler = " + slow_handler(work))
    with open(slow_conf, "w") as f:
        f.write(text)

    # Clean runs may have to drain rows left by another test: start empty.
    run_tool([env("HLM_DISPATCH"), "--once", "-q"], single_conf)

    figures = []
    for point in ("listed", "sent", "completed", "failed-put", "retry-put", "kill"):
        conf = single_conf if point == "failed-put" else retry_conf
        scenario = Scenario(info, swift, queue, point, conf)
        queued = scenario.submit()
        if point == "kill":
            code = kill_during_handler(scenario, slow_conf, work)
            check(code == -signal.SIGKILL, "kill: hlm-dispatch exited %r" % code)
        else:
            code, _, err = scenario.dispatch(fault=point)
            check(code == FAULT_EXIT, "%s: hlm-dispatch exited %d, not %d at the fault point: %s"
                  % (point, code, FAULT_EXIT, err[-2000:]))
        expect_after_fault(scenario, point, queued)
        runs = scenario.drain()
        check(runs[-1][0] in (0, 3) and any(code == 3 for code, _ in runs),
              "%s: the failing requests make a clean run exit 3: %r" % (point, runs))
        figures.append((point, scenario.verify(
            "after 2 attempts: " if conf == retry_conf else "storage policy",
            repeated_expected=point in ("sent", "kill")), len(runs)))
        print("%-10s clean runs %d: %s" % (point, len(runs), json.dumps(figures[-1][1])))

    object_row_put(info, swift, retry_conf)
    spill(info, swift, work)
    deferral_and_loop(info, swift, queue, work)
    print("ok: no request lost or stuck at any fault point (%.1f s)" % (time.monotonic() - started))


if __name__ == "__main__":
    main()
