"""The systemd units and the cron example of packaging/ as written: their
shape (units.check_units), `systemd-analyze verify` against the built
hlm-dispatch and man pages (or a small parser without systemd-analyze),
the cron job's syntax and options, and the "<3>" journald prefix of
hlm-dispatch's errors under systemd. Needs no Swift and no package."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import units  # noqa: E402


def check_journal_prefix(dispatch):
    """Under systemd, hlm-dispatch's error line carries "<3>" when stderr is
    the stream $JOURNAL_STREAM names, and nothing otherwise."""
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as other:
        for stream, expected in ((err, b"<3>hlm-dispatch: error: cannot read "),
                                 (other, b"hlm-dispatch: error: cannot read ")):
            st = os.fstat(stream.fileno())
            err.seek(0)
            err.truncate()
            subprocess.run([dispatch, "--config", "/nonexistent/hlm.conf", "--once"],
                           stderr=err, stdout=subprocess.DEVNULL, timeout=30,
                           env=dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino)))
            err.seek(0)
            line = err.read()
            if not line.startswith(expected) or line.count(b"\n") != 1:
                raise units.Failure("hlm-dispatch's error line under JOURNAL_STREAM: %r, "
                                    "expected %r..." % (line, expected))


def main():
    source, dispatch, man_build = (os.path.abspath(a) for a in sys.argv[1:4])
    unit_dir = os.path.join(source, "packaging", "systemd")
    units.check_units(unit_dir, "/usr/bin")

    # A root holding the built binary where the units expect it, and the
    # built pages where man looks.
    tmp = tempfile.mkdtemp(prefix="hlm-units-test-")
    try:
        os.makedirs(os.path.join(tmp, "usr", "bin"))
        os.symlink(dispatch, os.path.join(tmp, "usr", "bin", "hlm-dispatch"))
        man_dir = os.path.join(tmp, "man")
        for page in os.listdir(man_build) if os.path.isdir(man_build) else []:
            section = page.rsplit(".", 1)[-1]
            if section.isdigit():
                os.makedirs(os.path.join(man_dir, "man" + section), exist_ok=True)
                os.symlink(os.path.join(man_build, page), os.path.join(man_dir, "man" + section, page))
        # Without asciidoctor there are no pages to find.
        how = units.verify(unit_dir, tmp, man_dir if os.path.isdir(man_dir) else None)
    finally:
        shutil.rmtree(tmp)

    check_journal_prefix(dispatch)
    help_text = subprocess.run([dispatch, "--help"], capture_output=True, check=True,
                               timeout=30).stdout.decode()
    units.check_cron(os.path.join(source, "packaging", "cron", "hlm-dispatch"), help_text)
    print("ok: units checked with %s; cron example checked" % how)


if __name__ == "__main__":
    try:
        main()
    except units.Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
