"""Shell completion in the real shell, against the built tools: the
completion scripts, in their installed layout, must offer subcommands, a
subcommand's options, the members of an enumerated option or positional,
file names where a file goes and nothing where a number goes.

    test_completions.py bash|zsh|fish

Environment (test/completions/CMakeLists.txt): HLM_TOOLS_DIR holds the
built hlmctl, hlm-dispatch and hlm-handler; HLM_COMPLETIONS is the staged
share/ directory. Exits 125 when the shell is not installed."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 125
HERE = os.path.dirname(os.path.abspath(__file__))

SUBCOMMANDS = {"migrate", "recall", "status", "requests", "wait", "nodes", "cancel", "retry",
               "forget", "estimate"}
FILES = {"hlm.conf", "hlm.d", "other.txt"}  # made in the working directory

# (line typed before TAB, expected candidates, kind): "exact" compares the
# whole set; "some" wants those and no candidate from `absent`.
CASES = [
    ("hlmctl mig", {"migrate"}, "exact"),
    ("hlmctl ", SUBCOMMANDS, "exact"),
    ("hlmctl nodes --", {"--swift-dir", "--policy", "--json", "--help"}, "exact"),
    ("hlmctl migrate --fi", {"--file"}, "exact"),
    ("hlmctl migrate --", {"--file", "--config", "--json", "--os-auth-url"}, "some"),
    ("hlm-dispatch --sch", {"--schedule"}, "exact"),
    ("hlm-dispatch --schedule ", {"batched", "fifo"}, "exact"),
    ("hlm-dispatch --schedule f", {"fifo"}, "exact"),
    ("hlm-dispatch --schedule=", {"batched", "fifo"}, "exact"),
    ("hlm-dispatch --interval ", set(), "exact"),
    ("hlm-dispatch --config hlm", {"hlm.conf", "hlm.d"}, "exact"),
    ("hlm-dispatch --config=hlm", {"hlm.conf", "hlm.d"}, "exact"),
    ("hlm-handler ", {"status", "migrate", "recall"}, "exact"),
    ("hlm-handler re", {"recall"}, "exact"),
    ("hlm-handler migrate --obj", {"--object-server-conf"}, "exact"),
    ("hlm-handler --object-server-conf hlm.", {"hlm.conf", "hlm.d"}, "exact"),
    ("hlmctl migrate -f oth", {"other.txt"}, "exact"),
    ("hlmctl migrate --file ", FILES, "exact"),
    ("hlmctl status AUTH_test/c ", {"--config", "--json"}, "some"),
]
ABSENT = {"__complete", "--describe", "--list-tree"}
# zsh and fish show what a candidate is.
DESCRIBED = ("hlmctl mig", "migrate", "Queue objects or containers for migration to tape")


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def env(name):
    value = os.environ.get(name)
    if not value:
        fail("%s is not set; run this through ctest" % name)
    return value


def bash_words(line):
    """COMP_WORDS as bash makes them: "=" (in COMP_WORDBREAKS) is a word
    of its own, and a line ending in a space ends in an empty word."""
    words = []
    for token in line.split():
        words += [part for part in re.split(r"(=)", token) if part]
    if line.endswith(" "):
        words.append("")
    return words


def run_shell(shell, line, completions, cwd, scratch, environ):
    """Completes `line` in `shell`; returns {candidate: description}."""
    if shell == "bash":
        words = bash_words(line)
        argv = ["bash", "--norc", "--noprofile", os.path.join(HERE, "complete_bash.bash"),
                completions, line, str(len(words) - 1)] + words
    elif shell == "zsh":
        argv = ["zsh", "-f", os.path.join(HERE, "complete_zsh.zsh"), completions, line, scratch]
    else:
        # fish finds <command>.fish on $fish_complete_path when it first
        # completes the command, as it finds the installed file.
        argv = ["fish", "--no-config", "-c",
                "set -p fish_complete_path $argv[1]; complete -C $argv[2]",
                os.path.join(completions, "fish", "vendor_completions.d"), line]
    proc = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        fail("%s completing %r exited %d: %s" % (shell, line, proc.returncode, proc.stderr))
    out = {}
    last = line.split()[-1] if line.split() and not line.endswith(" ") else ""
    # "--opt=value": bash offers the value alone, zsh and fish the whole word.
    prefix = last[:last.index("=") + 1] if last.startswith("-") and "=" in last else ""
    for entry in proc.stdout.splitlines():
        if not entry:
            continue
        word, _, description = entry.partition("\t")
        if prefix and word.startswith(prefix):
            word = word[len(prefix):]
        out[word.rstrip("/") if word != "/" else word] = description
    return out


def main():
    shell = sys.argv[1]
    if shutil.which(shell) is None:
        print("SKIP: %s is not installed (scripts/build.sh installs it)" % shell)
        sys.exit(SKIP)
    completions = env("HLM_COMPLETIONS")
    with tempfile.TemporaryDirectory() as scratch:
        home = os.path.join(scratch, "home")
        work = os.path.join(scratch, "work")
        os.makedirs(home)
        os.makedirs(os.path.join(work, "hlm.d"))
        for name in FILES - {"hlm.d"}:
            open(os.path.join(work, name), "w").close()
        environ = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
                       XDG_DATA_HOME=os.path.join(home, ".local", "share"),
                       PATH=env("HLM_TOOLS_DIR") + os.pathsep + os.environ.get("PATH", ""))
        failures = []
        for line, expected, kind in CASES:
            got = run_shell(shell, line, completions, work, scratch, environ)
            words = set(got)
            if words & ABSENT:
                failures.append("%r offers hidden words %s" % (line, sorted(words & ABSENT)))
            if kind == "exact" and words != expected:
                failures.append("%r: got %s, expected %s" % (line, sorted(words), sorted(expected)))
            if kind == "some" and not expected <= words:
                failures.append("%r: got %s, missing %s" % (line, sorted(words), sorted(expected - words)))
        if shell != "bash":
            line, word, description = DESCRIBED
            got = run_shell(shell, line, completions, work, scratch, environ)
            if description not in got.get(word, ""):
                failures.append("%r: %r is described as %r, expected %r"
                                % (line, word, got.get(word), description))
    if failures:
        fail("%s completion:\n  %s" % (shell, "\n  ".join(failures)))
    print("ok: %d %s completions" % (len(CASES), shell))


if __name__ == "__main__":
    main()
