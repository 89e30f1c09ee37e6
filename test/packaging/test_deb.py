"""`cpack -G DEB` makes a package that holds exactly what `cmake --install`
installs under /usr, with sane metadata, and whose tools run from a scratch
root (`dpkg -x`): --version of each, man pages where man finds them, the
units verified against the packaged binary and pages.

Exits 125 (skip) when cpack, dpkg-deb or dpkg-shlibdeps (dpkg-dev) is
missing or the man pages were not built (asciidoctor); scripts/build.sh
installs them."""

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import units  # noqa: E402

SKIP = 125


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def run(argv, **kwargs):
    proc = subprocess.run(argv, capture_output=True, timeout=120, **kwargs)
    if proc.returncode != 0:
        fail("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(argv), proc.returncode, proc.stdout.decode(errors="replace")[-3000:],
            proc.stderr.decode(errors="replace")[-3000:]))
    return proc.stdout.decode()


def files_under(root):
    out = set()
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            out.add("/" + os.path.relpath(os.path.join(dirpath, name), root))
    return out


def main():
    source, build, version, built_hlmctl = sys.argv[1:5]
    for tool in ("cpack", "dpkg-deb", "dpkg-shlibdeps"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed (scripts/build.sh installs it)" % tool)
            sys.exit(SKIP)
    if not os.path.isfile(os.path.join(build, "man", "hlmctl.1.gz")):
        print("SKIP: the man pages were not built (asciidoctor, HLM_BUILD_MAN)")
        sys.exit(SKIP)
    arch = run(["dpkg", "--print-architecture"]).strip()
    tmp = tempfile.mkdtemp(prefix="hlm-deb-test-")
    try:
        # The package, made outside the build tree.
        out_dir = os.path.join(tmp, "out")
        run(["cpack", "-G", "DEB", "--config", os.path.join(build, "CPackConfig.cmake"),
             "-B", out_dir])
        deb = os.path.join(out_dir, "hlm_%s-1_%s.deb" % (version, arch))
        check(os.path.isfile(deb), "no %s in %s" % (os.path.basename(deb), os.listdir(out_dir)))

        # Metadata.
        info = run(["dpkg-deb", "-I", deb])
        fields = dict(re.findall(r"^ ([A-Za-z-]+): (.*)$", info, re.M))
        for key, expected in (("Package", "hlm"), ("Version", version + "-1"),
                              ("Architecture", arch), ("Section", "admin"),
                              ("Priority", "optional")):
            check(fields.get(key) == expected, "%s: %r, expected %r" % (key, fields.get(key), expected))
        check(re.match(r".+ <[^@ ]+@[^> ]+>$", fields.get("Maintainer", "")),
              "Maintainer: %r" % fields.get("Maintainer"))
        check(fields.get("Description", "").startswith("Tape"),
              "Description: %r" % fields.get("Description"))
        depends = [d.split()[0] for d in fields.get("Depends", "").split(", ") if d]
        for library in ("libc6", "libcurl4", "libssh-4", "libsqlite3-0", "libstdc++6"):
            check(library in depends, "Depends lacks %s: %r" % (library, fields.get("Depends")))
        for script in ("postinst", "prerm", "postrm"):
            check(re.search(r"\s%s\s" % script, info), "no %s in the control archive" % script)

        # Contents: exactly what cmake --install puts under /usr (so
        # whatever completions/ or connectors/ install is in), owned by
        # root, nothing under /etc, no static library, man pages gzipped.
        listing = run(["dpkg-deb", "-c", deb])
        packaged = set()
        for line in listing.splitlines():
            mode, owner, _, _, _, path = line.split(None, 5)
            check(owner == "root/root", "%s is owned by %s" % (path, owner))
            if not mode.startswith("d"):
                packaged.add(path[1:] if path.startswith("./") else path)
        staged = os.path.join(tmp, "staged")
        run(["cmake", "--install", build, "--prefix", "/usr"],
            env=dict(os.environ, DESTDIR=staged))
        installed = files_under(staged)
        check(packaged == installed,
              "package and cmake --install differ: only in the package %s, only installed %s"
              % (sorted(packaged - installed), sorted(installed - packaged)))
        expected = [
            "/usr/bin/hlmctl", "/usr/bin/hlm-dispatch", "/usr/bin/hlm-handler",
            "/usr/share/man/man1/hlmctl.1.gz", "/usr/share/man/man5/hlm.conf.5.gz",
            "/usr/share/man/man7/hlm-connector.7.gz", "/usr/share/man/man8/hlm-dispatch.8.gz",
            "/usr/share/man/man8/hlm-handler.8.gz",
            "/usr/lib/systemd/system/hlm-dispatch.service",
            "/usr/lib/systemd/system/hlm-dispatch.timer",
            "/usr/lib/systemd/system/hlm-dispatch-loop.service",
            "/usr/share/bash-completion/completions/hlmctl",
            "/usr/share/doc/hlm/examples/hlm.conf",
            "/usr/share/doc/hlm/examples/hlm-dispatch.cron",
            "/usr/lib/python3/dist-packages/hlm_swift/guard.py",
            "/usr/lib/python3/dist-packages/hlm_swift/diskfile.py",
            "/usr/lib/python3/dist-packages/hlm_swift/replica.py",
            "/usr/lib/python3/dist-packages/hlm_swift.egg-info/entry_points.txt",
            "/usr/lib/python3/dist-packages/hlm_swift.egg-info/PKG-INFO"]
        missing = [p for p in expected if p not in packaged]
        check(not missing, "the package lacks %s" % missing)
        check(all(p.startswith("/usr/") for p in packaged),
              "outside /usr: %s" % sorted(p for p in packaged if not p.startswith("/usr/")))
        check(not any(p.endswith(".a") or "/include/" in p for p in packaged),
              "development files: %s" % sorted(p for p in packaged if p.endswith(".a")))
        pages = [p for p in packaged if p.startswith("/usr/share/man/")]
        check(all(p.endswith(".gz") for p in pages), "uncompressed man pages: %s" % pages)

        # Installed into a scratch root.
        root = os.path.join(tmp, "root")
        run(["dpkg-deb", "-x", deb, root])
        reference = run([built_hlmctl, "--version"]).split("\n")[1]
        for tool in ("hlmctl", "hlm-dispatch", "hlm-handler"):
            out = run([os.path.join(root, "usr", "bin", tool), "--version"])
            check(out.split("\n")[:2] == ["%s %s" % (tool, version), reference],
                  "%s --version: %r, expected the version and %r" % (tool, out, reference))
        check("connectors: " in reference and len(reference.split()) > 1,
              "no connectors listed: %r" % reference)
        for page in pages:
            with gzip.open(root + page) as f:
                check(b"\n.TH " in f.read(), "%s is not a man page" % page)
        man_dir = os.path.join(root, "usr", "share", "man")
        if shutil.which("man"):
            for page in pages:
                proc = subprocess.run(["man", "--warnings", "-l", root + page],
                                      capture_output=True, timeout=60,
                                      env=dict(os.environ, MANWIDTH="80"))
                check(proc.returncode == 0 and not proc.stderr,
                      "man -l %s: %s" % (page, proc.stderr.decode(errors="replace")))
            proc = subprocess.run(["man", "-w", "hlm.conf"], capture_output=True, timeout=60,
                                  env=dict(os.environ, MANPATH=man_dir))
            check(proc.stdout.decode().strip() == os.path.join(man_dir, "man5", "hlm.conf.5.gz"),
                  "man -w hlm.conf with MANPATH=%s: %r" % (man_dir, proc.stdout))
        # Swift finds the packaged glue by its entry points, as the configs
        # in hlm-handler(8) name them.
        python_dir = os.path.join(root, "usr", "lib", "python3", "dist-packages")
        probe = ("import sys, pkg_resources; sys.path.insert(0, %r); "
                 "pkg_resources.working_set.add_entry(%r); "
                 "print(pkg_resources.load_entry_point('hlm_swift', 'swift.diskfile', "
                 "'replication.fs').__module__, pkg_resources.load_entry_point("
                 "'hlm_swift', 'paste.filter_factory', 'guard').__module__)"
                 % (python_dir, python_dir))
        out = run(["/usr/bin/python3", "-c", probe]).split()
        check(out == ["hlm_swift.diskfile", "hlm_swift.guard"],
              "entry points of the packaged hlm_swift: %r" % out)
        unit_dir = os.path.join(root, "usr", "lib", "systemd", "system")
        units.check_units(unit_dir, "/usr/bin")
        how = units.verify(unit_dir, root, man_dir)

        size = os.path.getsize(deb)
        print("ok: %s (%d KiB, %d files), units checked with %s"
              % (os.path.basename(deb), size // 1024, len(packaged), how))
    except units.Failure as e:
        fail(str(e))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
