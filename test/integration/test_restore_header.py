"""X-HLM-Restore on guarded reads, through the real proxy.

hlm-handler records a recalled replica's restore expiry in the xattr
user.hlm.restore-expiry of its .data file (hlm_swift.replica); here the test
sets it by hand on every replica. With a valid value, GET, a range GET and
HEAD carry X-HLM-Restore with that exact date; without the attribute there
is no header; with an invalid one ("soon", a year past 9999) there is no
header, the body is the uploaded bytes, and each read logs one warning
naming the replica. An object whose replicas are stubs (punched as an HSM
releases them, keeping the xattr) never carries the header; one whose only
on-disk replica has the attribute carries it on every GET."""

import glob
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import Swift, check, cluster  # noqa: E402
from stubs import punch, replica_files  # noqa: E402

A = "AUTH_test"
C = "restore-header"
XATTR = "user.hlm.restore-expiry"
SIZE = 100_000
EXPIRY = b"1796947200"
EXPECTED = 'ongoing-request="false", expiry-date="Fri, 11 Dec 2026 00:00:00 GMT"'
WARNING = "no X-HLM-Restore header"


def set_expiry(files, value):
    for f in files:
        if value is None:
            try:
                os.removexattr(f, XATTR)
            except OSError:
                pass
        else:
            os.setxattr(f, XATTR, value)


class Logs:
    """The object servers' logs: the guard's warnings since the last call."""

    def __init__(self, info):
        self.paths = glob.glob(os.path.join(info["log_dir"], "object-server-*.log"))
        check(len(self.paths) == len(info["nodes"]), "object server logs: %r" % self.paths)
        self.offsets = {}
        self.new_warnings()

    def new_warnings(self):
        lines = []
        for path in self.paths:
            with open(path, "rb") as f:
                f.seek(self.offsets.get(path, 0))
                data = f.read()
                self.offsets[path] = f.tell()
            lines += [line for line in data.decode(errors="replace").splitlines()
                      if WARNING in line]
        return lines


def reads(swift, name, after=None):
    """[(what, status, headers, body, after())] of GET, GET bytes=10-19 and
    HEAD; `after` is called after each read."""
    out = []
    for method, headers in (("GET", {}), ("GET", {"Range": "bytes=10-19"}), ("HEAD", {})):
        status, resp_headers, body = swift.request_full(method, C + "/" + name,
                                                        headers=headers)
        out.append(("%s %s%s" % (method, name, " " + headers["Range"] if headers else ""),
                    status, resp_headers, body, after() if after else None))
    return out


def expect_served(swift, name, body, restore):
    """Every read is served from disk, with X-HLM-Restore `restore` (None:
    no header)."""
    for what, status, headers, data, _ in reads(swift, name):
        expected = {"GET %s" % name: body, "HEAD %s" % name: b""}.get(what, body[10:20])
        check(status in (200, 206) and data == expected,
              "%s: %d, %d bytes, expected %d bytes of the object"
              % (what, status, len(data), len(expected)))
        check(headers.get("x-hlm-state") == "on-disk",
              "%s: X-HLM-State %r" % (what, headers.get("x-hlm-state")))
        check(headers.get("x-hlm-restore") == restore,
              "%s: X-HLM-Restore %r, expected %r" % (what, headers.get("x-hlm-restore"), restore))


def main():
    info = cluster()
    swift = Swift()
    logs = Logs(info)
    swift.put_container(C)
    bodies = {}
    for name in ("restored", "stub", "partial"):
        bodies[name] = (hashlib.sha256(name.encode()).digest() * (SIZE // 32 + 1))[:SIZE]
        swift.put_object(C, name, bodies[name])
    files = {name: replica_files(info, "/%s/%s/%s" % (A, C, name)) for name in bodies}
    check(all(len(f) == 3 for f in files.values()), "replica files: %r" % files)

    restored = files["restored"]
    expect_served(swift, "restored", bodies["restored"], None)
    set_expiry(restored, EXPIRY)
    expect_served(swift, "restored", bodies["restored"], EXPECTED)
    print("    GET/HEAD with %s=%s -> X-HLM-Restore: %s" % (XATTR, EXPIRY.decode(), EXPECTED))
    set_expiry(restored, None)
    expect_served(swift, "restored", bodies["restored"], None)

    for value in (b"soon", b"253402300800"):
        set_expiry(restored, value)
        logs.new_warnings()
        for what, status, _, _, warnings in reads(swift, "restored", logs.new_warnings):
            # Each read was answered by one object server: one warning
            # naming the replica it opened.
            check(len(warnings) == 1 and any(f in warnings[0] for f in restored)
                  and repr(value) in warnings[0],
                  "%s with %s=%r: warnings %r" % (what, XATTR, value, warnings))
        expect_served(swift, "restored", bodies["restored"], None)
        print("    with %s=%r: no header, served; logged: %s"
              % (XATTR, value, warnings[0].split(".data: ", 1)[-1]))

    # Stubs keep the attribute; the guard ignores it there.
    set_expiry(files["stub"], EXPIRY)
    for f in files["stub"]:
        punch(f)
        check(os.getxattr(f, XATTR) == EXPIRY, "%s: punching dropped the xattr" % f)
    for what, status, headers, _, _ in reads(swift, "stub"):
        expected = 200 if what.startswith("HEAD") else 412
        check(status == expected and headers.get("x-hlm-state") == "migrated"
              and "x-hlm-restore" not in headers,
              "%s of a stub with %s: %d, X-HLM-State %r, X-HLM-Restore %r (expected %d, "
              "migrated, none)" % (what, XATTR, status, headers.get("x-hlm-state"),
                                   headers.get("x-hlm-restore"), expected))

    # One replica on disk with the attribute, two stubs with it: a GET is
    # served by the one on disk, whichever order the proxy tries them in.
    set_expiry(files["partial"], EXPIRY)
    for f in files["partial"][1:]:
        punch(f)
    for _ in range(5):
        status, headers, data = swift.request_full("GET", C + "/partial")
        check(status == 200 and data == bodies["partial"]
              and headers.get("x-hlm-restore") == EXPECTED,
              "GET of a partly recalled object: %d, X-HLM-Restore %r"
              % (status, headers.get("x-hlm-restore")))
    print("restore expiry header on guarded reads: OK")


if __name__ == "__main__":
    main()
