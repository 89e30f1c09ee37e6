"""hlm_swift.replica, the rule "is this replica's data on disk": on files
in a temporary directory of the build's file system, with holes punched by
fallocate(1) as tapesim (release = punch) and HSMs make them; and the
restore expiry attribute's valid and invalid values."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "..", "python"))
from hlm_swift import replica  # noqa: E402

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def write(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))
        f.flush()
        os.fsync(f.fileno())


def punch(path, offset, length):
    subprocess.run(["fallocate", "--punch-hole", "--offset", str(offset),
                    "--length", str(length), path], check=True)


def on_disk(path, start=0, end=None):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.lseek(fd, 1234, os.SEEK_SET)
        result = replica.on_disk(fd, start, end)
        check(os.lseek(fd, 0, os.SEEK_CUR) == 1234, "%s: the file offset moved" % path)
        return result
    finally:
        os.close(fd)


def expiry_of(path, value):
    """replica.restore_expiry of `path` with the attribute set to `value`
    (None: removed); an invalid value gives "invalid"."""
    if value is None:
        try:
            os.removexattr(path, replica.RESTORE_EXPIRY_XATTR)
        except OSError:
            pass
    else:
        os.setxattr(path, replica.RESTORE_EXPIRY_XATTR, value)
    fd = os.open(path, os.O_RDONLY)
    try:
        return replica.restore_expiry(fd)
    except ValueError:
        return "invalid"
    finally:
        os.close(fd)


def restore_expiry(path):
    cases = [(None, None), (b"1796947200", 1796947200), (b"0", 0),
             (b"253402300799", 253402300799),  # 9999-12-31 23:59:59
             (b"253402300800", "invalid"),     # year 10000
             (b"9" * 40, "invalid"), (b"soon", "invalid"), (b"", "invalid"),
             (b"1796947200\n", "invalid"), (b" 1796947200", "invalid"),
             (b"-1", "invalid"), (b"+1796947200", "invalid"),
             ("\u0661\u0662".encode(), "invalid")]  # Arabic-Indic digits
    for value, expected in cases:
        got = expiry_of(path, value)
        check(got == expected, "restore expiry %r: %r, expected %r"
              % (value, got, expected))


def main():
    with tempfile.TemporaryDirectory(dir=os.environ.get("HLM_TEST_TMP")) as d:
        resident = os.path.join(d, "resident.data")
        write(resident, 300_000)
        check(on_disk(resident), "a written file is on disk")
        check(replica.path_on_disk(resident), "path_on_disk of a written file")

        empty = os.path.join(d, "empty.data")
        write(empty, 0)
        check(on_disk(empty), "an empty file is on disk")

        stub = os.path.join(d, "stub.data")
        write(stub, 300_000)
        punch(stub, 0, 300_000 + 4096)
        check(not on_disk(stub), "a fully punched file is a stub")
        check(not replica.path_on_disk(stub), "path_on_disk of a stub")

        preview = os.path.join(d, "preview.data")
        write(preview, 300_000)
        punch(preview, 65536, 300_000)
        check(not on_disk(preview), "a stub that keeps its first 64 KiB is a stub")
        check(on_disk(preview, 0, 65536), "its first 64 KiB are on disk")
        check(not on_disk(preview, 60_000, 70_000), "a range across the hole is not")
        check(on_disk(preview, 400_000, 500_000), "a range past the end has nothing to miss")

        small = os.path.join(d, "small.data")
        write(small, 100)
        punch(small, 0, 100)
        check(on_disk(small), "punching inside a block keeps it (why tapesim rounds up)")
        punch(small, 0, 4096)
        check(not on_disk(small), "punching the whole block makes a stub")
        restore_expiry(resident)
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("hlm_swift.replica: OK")


if __name__ == "__main__":
    main()
