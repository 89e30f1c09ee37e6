"""Every hlmctl subcommand and long option (walked from the CLI tree by
`hlmctl __complete --list-tree`) and every hlm-handler and hlm-dispatch
long option must appear in its man page; completion answers must come from
the same tree."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import check, env, run  # noqa: E402


def page(name):
    with open(os.path.join(env("HLM_MAN_DIR"), name + ".1.adoc"), encoding="utf-8") as f:
        return f.read()


def main():
    _, out, _ = run([env("HLMCTL"), "__complete", "--list-tree"], check_status=0)
    entries = out.decode().split("\n")
    entries = [e for e in entries if e]
    check(any(e == "nodes" for e in entries), "the tree lists `nodes`: %r" % entries)
    hlmctl = page("hlmctl")
    missing = []
    for entry in entries:
        word = entry.split(" ")[-1]
        if word not in hlmctl:
            missing.append(entry)
    check(not missing, "hlmctl.1.adoc lacks: %s" % ", ".join(missing))

    options = set()
    for tool, variable in (("hlm-handler", "HLM_HANDLER"), ("hlm-dispatch", "HLM_DISPATCH")):
        _, out, _ = run([env(variable), "--help"], check_status=0)
        found = set(re.findall(r"(--[a-z][a-z-]+)", out.decode()))
        check(found, "%s --help lists no options" % tool)
        missing = sorted(o for o in found if o not in page(tool))
        check(not missing, "%s.1.adoc lacks: %s" % (tool, ", ".join(missing)))
        options |= found

    _, out, _ = run([env("HLMCTL"), "__complete", "hlmctl", "no"], check_status=0)
    check(out.decode().split() == ["nodes"], "completing 'no': %r" % out)
    _, out, _ = run([env("HLMCTL"), "__complete", "hlmctl", "nodes", "--js"], check_status=0)
    check(out.decode().split() == ["--json"], "completing 'nodes --js': %r" % out)
    print("ok: %d hlmctl entries and %d hlm-handler/hlm-dispatch options documented"
          % (len(entries), len(options)))


if __name__ == "__main__":
    main()
