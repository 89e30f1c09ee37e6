"""Our ring lookup (libhlm, through the ring_lookup tool) must agree with
Swift's own Ring.get_nodes on the test cluster's rings: partition, hash and
the ordered primary devices, for thousands of names per ring."""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import check, cluster, env, run  # noqa: E402

NAMES_PER_RING = 3000


def hostile_parts(rng):
    alphabet = ("abcXYZ019 _-.%/~+=&?#:;@!*'()[]{}<>|\\\"\t"
                "\u00e9\u00fc\u00df\u4e2d\u6587\u0416\u05d0\U0001F4FC\u200b")
    fixed = ["o", "with space", "with/slash", "dir/sub/deeper/", "%2F",
             "%25", "trailing ", " leading", "\u00e9t\u00e9", "\u4e2d\u6587",
             "\U0001F4FC emoji", "a" * 1024, ("\u00e9" * 512), "x/" * 300,
             "newline\nin name", "tab\tname", ".", "..", "-", "0"]
    while True:
        if fixed:
            yield fixed.pop()
            continue
        length = rng.choice([1, 2, 5, 12, 40, 200, 1000])
        yield "".join(rng.choice(alphabet) for _ in range(length))


def names_for(ring, rng):
    parts = hostile_parts(rng)
    accounts = ["AUTH_test", ".swifthlm", "AUTH_\u00e9", "AUTH_x y"]
    out = []
    for i in range(NAMES_PER_RING):
        account = accounts[i % len(accounts)] if i % 7 else next(parts).replace("/", "_")
        if ring == "account":
            out.append([account, None, None])
        elif ring == "container":
            out.append([account, next(parts).replace("/", "_"), None])
        else:
            out.append([account, "c" + next(parts).replace("/", "_")[:200],
                        next(parts)])
    return out


def main():
    info = cluster()
    swift_dir = info["swift_dir"]
    rng = random.Random(20261122)
    tools = env("HLM_SAIO_TOOLS")
    total = 0
    for ring in ("account", "container", "object", "object-1"):
        names = names_for(ring, rng)
        stdin = "".join(json.dumps(n) + "\n" for n in names).encode()
        _, theirs, _ = run([env("HLM_PYTHON"), os.path.join(tools, "python_ring.py"),
                            "--swift-dir", swift_dir, "--ring", ring], stdin, 0)
        _, ours, _ = run([env("HLM_RING_LOOKUP"), swift_dir, ring], stdin, 0)
        theirs = [json.loads(line) for line in theirs.splitlines()]
        ours = [json.loads(line) for line in ours.splitlines()]
        check(len(theirs) == len(names) and len(ours) == len(names),
              "%s: %d names, swift answered %d, we answered %d"
              % (ring, len(names), len(theirs), len(ours)))
        mismatches = [(n, t, o) for n, t, o in zip(names, theirs, ours)
                      if (t["partition"], t["hash"], t["nodes"])
                      != (o["partition"], o["hash"], o["nodes"])]
        for name, t, o in mismatches[:5]:
            print("mismatch %s %r: swift %r, hlm %r" % (ring, name, t, o))
        check(not mismatches, "%s: %d of %d lookups differ from Swift"
              % (ring, len(mismatches), len(names)))
        distinct = len({t["partition"] for t in theirs})
        print("%s: %d names, %d distinct partitions, all equal to Swift's"
              % (ring, len(names), distinct))
        total += len(names)
    print("ok: %d lookups agree with swift.common.ring.Ring" % total)


if __name__ == "__main__":
    main()
