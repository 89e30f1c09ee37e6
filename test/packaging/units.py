"""Checks of the systemd units and the cron example, shared by
test_units.py (the source tree) and test_deb.py (the package).

`systemd-analyze verify` works offline (no running systemd needed), but it
only warns about unknown keys and exits 0, so any output is a failure here.
Without systemd-analyze, a small parser checks what it would: known
sections and keys, an executable absolute ExecStart=, and the man pages of
Documentation=."""

import os
import re
import shutil
import subprocess
import tempfile

HARDENING_KEYS = [
    "ProtectSystem", "ProtectHome", "NoNewPrivileges", "RestrictSUIDSGID",
    "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
    "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictRealtime",
    "RestrictNamespaces", "LockPersonality", "RestrictAddressFamilies"]

# What the fallback parser knows: every key the units use, per section.
KNOWN_KEYS = {
    "Unit": {"Description", "Documentation", "Wants", "After", "Conflicts"},
    "Service": {"Type", "User", "Group", "ExecStart", "Restart", "RestartSec",
                "TimeoutStopSec", "SuccessExitStatus"} | set(HARDENING_KEYS),
    "Timer": {"OnBootSec", "OnUnitInactiveSec", "AccuracySec"},
    "Install": {"WantedBy"},
}


class Failure(Exception):
    pass


def parse_unit(text, name):
    """A unit file -> {section: [(key, value), ...]}."""
    out = {}
    section = None
    for number, line in enumerate(text.split("\n"), 1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        m = re.match(r"\[([A-Za-z]+)\]$", line)
        if m:
            section = m.group(1)
            out.setdefault(section, [])
            continue
        m = re.match(r"([A-Za-z]+)=(.*)$", line)
        if not m or section is None:
            raise Failure("%s:%d: not a key=value line in a section: %r" % (name, number, line))
        out[section].append((m.group(1), m.group(2)))
    return out


def values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def check_units(unit_dir, bindir):
    """Checks hlm's three units in `unit_dir`, whose ExecStart= must name
    `bindir`/hlm-dispatch. Returns the parsed units."""
    names = ["hlm-dispatch.service", "hlm-dispatch.timer", "hlm-dispatch-loop.service"]
    units = {}
    for name in names:
        path = os.path.join(unit_dir, name)
        if not os.path.isfile(path):
            raise Failure("missing unit %s" % path)
        with open(path, encoding="utf-8") as f:
            units[name] = parse_unit(f.read(), name)

    once, timer, loop = (units[n] for n in names)
    dispatch = os.path.join(bindir, "hlm-dispatch")
    expect = [
        (values(once, "Service", "Type") == ["oneshot"], "hlm-dispatch.service: Type=oneshot"),
        (values(once, "Service", "ExecStart") == [dispatch + " --once"],
         "hlm-dispatch.service: ExecStart=%s --once, not %r"
         % (dispatch, values(once, "Service", "ExecStart"))),
        (values(loop, "Service", "Type") == ["simple"], "hlm-dispatch-loop.service: Type=simple"),
        (values(loop, "Service", "ExecStart") == [dispatch + " --loop"],
         "hlm-dispatch-loop.service: ExecStart=%s --loop, not %r"
         % (dispatch, values(loop, "Service", "ExecStart"))),
        (values(loop, "Service", "Restart") == ["on-failure"],
         "hlm-dispatch-loop.service: Restart=on-failure"),
        (values(loop, "Install", "WantedBy") == ["multi-user.target"],
         "hlm-dispatch-loop.service: WantedBy=multi-user.target"),
        (values(timer, "Install", "WantedBy") == ["timers.target"],
         "hlm-dispatch.timer: WantedBy=timers.target"),
        (values(timer, "Timer", "OnUnitInactiveSec") == ["1min"],
         "hlm-dispatch.timer: OnUnitInactiveSec=1min"),
        ("hlm-dispatch.timer" in " ".join(values(loop, "Unit", "Conflicts")),
         "hlm-dispatch-loop.service conflicts with the timer"),
    ]
    for service in (once, loop):
        expect.append((values(service, "Service", "User") == ["swift"], "User=swift"))
    # Both services carry the same hardening (hlm-dispatch.service explains it).
    hardening = [[(k, v) for k, v in u["Service"] if k in HARDENING_KEYS] for u in (once, loop)]
    expect.append((hardening[0] == hardening[1],
                   "the services' hardening differs: %r / %r" % tuple(hardening)))
    expect.append(([k for k, _ in hardening[0]] == HARDENING_KEYS,
                   "hardening keys: %r" % [k for k, _ in hardening[0]]))
    for ok, message in expect:
        if not ok:
            raise Failure(message)
    return units


def verify(unit_dir, root, man_dir):
    """systemd-analyze verify on copies of the units whose ExecStart= point
    into `root` (where the binaries are), with `man_dir` as MANPATH for
    Documentation=man:... (None: the pages are not checked). Returns a note
    on how the units were checked."""
    tmp = tempfile.mkdtemp(prefix="hlm-units-")
    try:
        paths = []
        for name in sorted(os.listdir(unit_dir)):
            if not name.startswith("hlm-"):
                continue
            with open(os.path.join(unit_dir, name), encoding="utf-8") as f:
                text = f.read()
            text = re.sub(r"^ExecStart=/", "ExecStart=%s/" % root.rstrip("/"), text, flags=re.M)
            path = os.path.join(tmp, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            paths.append(path)
        analyze = shutil.which("systemd-analyze")
        if analyze:
            man = ["--man=no"] if man_dir is None else []
            proc = subprocess.run([analyze, "verify"] + man + paths, capture_output=True,
                                  timeout=60, env=dict(os.environ, MANPATH=man_dir or "",
                                                       SYSTEMD_LOG_COLOR="0"))
            output = (proc.stdout + proc.stderr).decode(errors="replace").strip()
            if proc.returncode != 0 or output:
                raise Failure("systemd-analyze verify (%d):\n%s" % (proc.returncode, output))
            return "systemd-analyze verify"
        for path in paths:
            name = os.path.basename(path)
            with open(path, encoding="utf-8") as f:
                unit = parse_unit(f.read(), name)
            for section, entries in unit.items():
                if section not in KNOWN_KEYS:
                    raise Failure("%s: unknown section [%s]" % (name, section))
                for key, _ in entries:
                    if key not in KNOWN_KEYS[section]:
                        raise Failure("%s: unknown key %s in [%s]" % (name, key, section))
            for command in values(unit, "Service", "ExecStart"):
                program = command.split()[0]
                if not (os.path.isabs(program) and os.access(program, os.X_OK)):
                    raise Failure("%s: %s is not executable" % (name, program))
            for docs in values(unit, "Unit", "Documentation") if man_dir else []:
                for ref in docs.split():
                    m = re.match(r"man:(.+)\((\d)\)$", ref)
                    if not m:
                        raise Failure("%s: Documentation=%s" % (name, ref))
                    page = os.path.join(man_dir, "man" + m.group(2),
                                        "%s.%s" % (m.group(1), m.group(2)))
                    if not (os.path.exists(page) or os.path.exists(page + ".gz")):
                        raise Failure("%s: no man page %s" % (name, page))
        return "a small parser (systemd-analyze is not installed)"
    finally:
        shutil.rmtree(tmp)


CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def check_cron(path, dispatch_help):
    """The cron example: /etc/cron.d syntax (variables, or five time fields,
    a user and a command), the user swift, and hlm-dispatch options that
    `dispatch_help` (its --help) lists."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    jobs = 0
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=\S*$", line):
            continue
        fields = line.split(None, 6)
        where = "%s:%d" % (path, number)
        if len(fields) < 7:
            raise Failure("%s: not five time fields, a user and a command: %r" % (where, line))
        for field, (low, high) in zip(fields[:5], [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]):
            if not CRON_FIELD.match(field):
                raise Failure("%s: bad time field %r" % (where, field))
            for n in re.findall(r"\d+", re.sub(r"/\d+", "", field)):
                if not low <= int(n) <= high:
                    raise Failure("%s: %s is out of %d-%d" % (where, n, low, high))
        if fields[5] != "swift":
            raise Failure("%s: runs as %r, not swift" % (where, fields[5]))
        command = fields[6].split()
        if command[:2] != ["hlm-dispatch", "--once"]:
            raise Failure("%s: the command is not hlm-dispatch --once: %r" % (where, fields[6]))
        for word in command[2:]:
            if word in ("2>&1", "|"):
                break
            if word.startswith("-") and word not in dispatch_help:
                raise Failure("%s: hlm-dispatch has no option %s" % (where, word))
        jobs += 1
    if jobs != 1:
        raise Failure("%s: %d jobs, expected 1" % (path, jobs))
