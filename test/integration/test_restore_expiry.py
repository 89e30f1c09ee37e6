"""Restore expiry (hlmctl recall --days, issue 15 item 5) on the real test
cluster: one tapesim library shared by the object servers, guarded reads,
release = punch, and the dispatcher's clock moved forward with
HLM_DISPATCH_CLOCK_OFFSET (its test hook; queue rows keep the real time).

Objects are migrated, then recalled with --days: status and the proxy's
GET show the expiry (midnight UTC, the days later), a re-issued recall with
more days extends it, a recall without --days keeps its copy. Days later
the dispatcher releases exactly the expired copies (the object is migrated
again, a GET answers 412) and keeps the extended and the permanent ones; a
dispatcher killed between queueing a release and deleting its reminder
leaves one release, which the next run finishes. Bad --days values and
max_restore_days (truncate, refuse) are refused or capped before anything
is queued. Swift's auditor and replicator run over the released stubs and
the restored copies, and every GET of a restored copy stays
byte-identical."""

import hashlib
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import (Swift, check, cluster, env, hlmctl, run_tool,  # noqa: E402
                     tapesim_confs, write_hlm_conf)
from stubs import no_quarantined  # noqa: E402
from test_daemon_stubs import RsyncDaemon, on_every_node  # noqa: E402

A = "AUTH_test"
C = "expiry"
DAY = 86400
SIZE = 50_000


def expiry_after(days, at):
    """The expiry of a recall with `days` run at `at`: midnight UTC after."""
    return (int(at) + days * DAY + DAY - 1) // DAY * DAY


def iso(seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def dispatch(conf, days_ahead=0, fault=None, status=0):
    overrides = {"HLM_DISPATCH_CLOCK_OFFSET": str(days_ahead * DAY)}
    if fault:
        overrides["HLM_DISPATCH_FAULT"] = fault
    code, out, err = run_tool([env("HLM_DISPATCH"), "--once", "--json"], conf,
                              status=status, env_overrides=overrides)
    report = json.loads(out.strip().splitlines()[-1]) if code == 0 else None
    return report, err


def statuses(conf):
    """{name: (state, restore_expiry or None)} of the container's objects."""
    _, out, _ = hlmctl(conf, "status", "--json", "--replicas", A + "/" + C)
    objects = json.loads(out)["objects"]
    return {path.rsplit("/", 1)[1]: (o["state"], o.get("restore_expiry"))
            for path, o in objects.items()}


def pending(conf):
    _, out, _ = hlmctl(conf, "requests", "--json", A + "/" + C)
    return json.loads(out)["pending"]


def get(swift, name):
    return swift.request_full("GET", C + "/" + name)


def expect_readable(swift, name, body, expiry):
    """Every GET (the proxy picks replicas at random) is the body, and the
    answer carries X-HLM-Restore with `expiry` (None: no header)."""
    for _ in range(4):
        status, headers, data = get(swift, name)
        check(status == 200 and data == body,
              "GET %s: %d, %d bytes" % (name, status, len(data)))
        header = {k.lower(): v for k, v in headers.items()}.get("x-hlm-restore")
        if expiry is None:
            check(header is None, "GET %s: X-HLM-Restore %r, expected none" % (name, header))
        else:
            want = 'ongoing-request="false", expiry-date="%s"' % time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(expiry))
            check(header == want, "GET %s: X-HLM-Restore %r, expected %r"
                  % (name, header, want))


def main():
    info = cluster()
    work = os.path.join(info["dir"], "expiry-test")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    conf_dir, _ = tapesim_confs(info, work, {"release": "punch"}, shared_library=True)
    conf = write_hlm_conf(os.path.join(work, "hlm.conf"), object_server_conf=conf_dir)
    swift = Swift()
    swift.put_container(C)
    bodies = {}
    for name in ("short", "extended", "kept", "crash"):
        bodies[name] = (hashlib.sha256(name.encode()).digest() * (SIZE // 32 + 1))[:SIZE]
        swift.put_object(C, name, bodies[name])
    hlmctl(conf, "migrate", A + "/" + C)
    report, _ = dispatch(conf)
    check(report["completed"] == 1, "migrated: %r" % report)
    check(all(s == ("migrated", None) for s in statuses(conf).values()),
          "all migrated: %r" % statuses(conf))

    # Bad --days: usage errors, nothing queued.
    for bad in ("0", "-1", "36501", "99999999999", "two", "1.5", ""):
        code, _, err = hlmctl(conf, "recall", "--days", bad, A + "/" + C + "/short",
                              status=None)
        check(code == 2 and "--days" in err, "--days %r: exit %d, %s" % (bad, code, err))
    check(pending(conf) == [], "nothing queued by bad --days")
    code, _, err = hlmctl(conf, "migrate", "--days", "2", A + "/" + C + "/short", status=None)
    check(code == 2, "migrate --days is a usage error: %d %s" % (code, err))

    # Recalls: 2 days, 2 days (re-issued below with 5), 2 days for the
    # crash case, and one without --days.
    before = time.time()
    for name in ("short", "extended", "crash"):
        hlmctl(conf, "recall", "--days", "2", "%s/%s/%s" % (A, C, name))
    hlmctl(conf, "recall", A + "/" + C + "/kept")
    report, err = dispatch(conf)
    after = time.time()
    check(report["completed"] == 4 and report["failed"] == 0, "recalled: %r" % report)
    two = {expiry_after(2, before), expiry_after(2, after)}
    said = [line for line in err.splitlines() if "copies stay on disk until" in line]
    check(len(said) == 1 and any(iso(t) in said[0] for t in two)
          and "(--days 2)" in said[0], "hlm-dispatch says the expiry: %r" % err)
    states = statuses(conf)
    expiry2 = states["short"][1]
    check(expiry2 in two, "short: expiry %r, expected one of %r" % (expiry2, two))
    for name in ("short", "extended", "crash"):
        check(states[name] == ("premigrated", expiry2), "%s: %r" % (name, states[name]))
    check(states["kept"] == ("premigrated", None), "kept: %r" % (states["kept"],))
    _, text, _ = hlmctl(conf, "status", A + "/" + C + "/short")
    check("premigrated (restored until %s)" % iso(expiry2) in text, "status text: %r" % text)
    expect_readable(swift, "short", bodies["short"], expiry2)
    expect_readable(swift, "kept", bodies["kept"], None)
    print("    recall --days 2: restored until %s, in status and X-HLM-Restore" % iso(expiry2))

    # Re-issuing extends: queued although on disk, and the later expiry wins.
    _, out, _ = hlmctl(conf, "recall", "--days", "5", "--json", A + "/" + C + "/extended")
    doc = json.loads(out)
    check(doc["days"] == 5 and [t["outcome"] for t in doc["requests"]] == ["queued"],
          "re-issued recall queued: %s" % out)
    before = time.time()
    dispatch(conf)
    five = {expiry_after(5, before), expiry_after(5, time.time())}
    expiry5 = statuses(conf)["extended"][1]
    check(expiry5 in five, "extended: %r, expected one of %r" % (expiry5, five))
    expect_readable(swift, "extended", bodies["extended"], expiry5)
    print("    re-issued with --days 5: extended to %s" % iso(expiry5))

    # Three days on: the 2-day reminders are due. The run is killed right
    # after queueing the first release, before deleting its reminder.
    dispatch(conf, days_ahead=3, fault="release-queued", status=86)
    releases = [p for p in pending(conf) if p["operation"] == "migrate"]
    check(len(releases) == 1, "one release queued before the kill: %r" % pending(conf))
    report, err = dispatch(conf, days_ahead=3)
    check("queued 3 releases of restore expiries due now" in err
          or "queued 2 releases of restore expiries due now" in err,
          "the next run queues the rest: %r" % err)
    check(report["failed"] == 0 and pending(conf) == [], "releases done: %r %r"
          % (report, pending(conf)))
    states = statuses(conf)
    check(states["short"] == ("migrated", None), "short released: %r" % (states["short"],))
    check(states["crash"] == ("migrated", None), "crash released: %r" % (states["crash"],))
    check(states["extended"] == ("premigrated", expiry5),
          "extended kept: %r" % (states["extended"],))
    check(states["kept"] == ("premigrated", None), "kept kept: %r" % (states["kept"],))
    status, headers, _ = get(swift, "short")
    check(status == 412, "GET of a released object: %d" % status)
    expect_readable(swift, "extended", bodies["extended"], expiry5)
    expect_readable(swift, "kept", bodies["kept"], None)
    print("    3 days on: the 2-day copies released (one run killed between "
          "queueing and bookkeeping), the extended and permanent kept")

    # Swift's daemons over released stubs and restored copies.
    rsync = RsyncDaemon(info, work)
    try:
        on_every_node(info, "auditor")
        on_every_node(info, "auditor", "--zero-byte-fps", "1000")
        on_every_node(info, "replicator", "--rsync-module", rsync.module)
    finally:
        rsync.stop()
    no_quarantined(info)
    expect_readable(swift, "extended", bodies["extended"], expiry5)
    expect_readable(swift, "kept", bodies["kept"], None)
    check(get(swift, "short")[0] == 412, "short still migrated after the daemons")

    # Six days on: the extended copy goes too; the permanent one never.
    report, _ = dispatch(conf, days_ahead=6)
    states = statuses(conf)
    check(states["extended"] == ("migrated", None), "extended released: %r"
          % (states["extended"],))
    check(states["kept"] == ("premigrated", None), "kept never: %r" % (states["kept"],))
    dispatch(conf, days_ahead=6)
    check(statuses(conf)["kept"] == ("premigrated", None), "a second run releases nothing")
    print("    6 days on: the extended copy released; the recall without --days kept")

    # max_restore_days: truncate (said, and stored truncated), or refuse.
    capped = write_hlm_conf(os.path.join(work, "capped.conf"), object_server_conf=conf_dir,
                            dispatch="max_restore_days = 3\n")
    _, out, err = hlmctl(capped, "recall", "--days", "10", "--json", A + "/" + C + "/short")
    check(json.loads(out)["days"] == 3 and "truncated to 3" in err,
          "truncated: %s %s" % (out, err))
    refusing = write_hlm_conf(os.path.join(work, "refusing.conf"), object_server_conf=conf_dir,
                              dispatch="max_restore_days = 3\nmax_restore_days_action = refuse\n")
    code, _, err = hlmctl(refusing, "recall", "--days", "10", A + "/" + C + "/crash",
                          status=None)
    check(code == 2 and "max_restore_days 3" in err, "refused: %d %s" % (code, err))
    queued = pending(conf)
    check(len(queued) == 1 and queued[0]["target"].endswith("/short"),
          "only the truncated recall is queued: %r" % queued)
    before = time.time()
    dispatch(conf)
    check(statuses(conf)["short"] == ("premigrated", expiry_after(3, before))
          or statuses(conf)["short"] == ("premigrated", expiry_after(3, time.time())),
          "recalled for 3 days: %r" % (statuses(conf)["short"],))
    print("ok: restore expiry set, shown, extended, released on time (once), capped")


if __name__ == "__main__":
    main()
