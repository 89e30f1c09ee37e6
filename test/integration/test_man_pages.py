"""The man pages against the tools they document, without a Swift:

* every hlmctl subcommand and long option (walked from the CLI tree by
  `hlmctl __complete --list-tree`) is in hlmctl(1), every hlm-handler and
  hlm-dispatch long option (from --help) in hlm-handler(8) and
  hlm-dispatch(8); completion answers come from the same tree;
* every hlm.conf key is in hlm.conf(5): the keys are taken from
  etc/hlm.conf.example, which must hold every key the parser reads
  (lib/hlm/config/hlm_conf.cpp) and which hlm-dispatch must accept with
  every key uncommented (an unknown key, the control, is refused);
* every page has the sections of house style, the exit statuses 0, 1, 2,
  3 and 130 under EXIT STATUS, is built and installed (man/CMakeLists.txt),
  and every reference to an hlm page, in the pages and README.md, names an
  existing page in the right section."""

import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import check, env, run  # noqa: E402

MAN_DIR = env("HLM_MAN_DIR")
SOURCE_DIR = os.path.dirname(os.path.abspath(MAN_DIR))

# name -> section, and what each page must have.
PAGES = {"hlmctl": 1, "hlm.conf": 5, "hlm-connector": 7, "hlm-dispatch": 8, "hlm-handler": 8}
EVERY_PAGE = ["NAME", "SYNOPSIS", "DESCRIPTION", "ENVIRONMENT", "FILES", "EXIT STATUS",
              "SEE ALSO"]
TOOL_PAGE = EVERY_PAGE + ["OPTIONS", "EXAMPLES"]
REQUIRED = {"hlmctl": TOOL_PAGE, "hlm-dispatch": TOOL_PAGE, "hlm-handler": TOOL_PAGE,
            "hlm.conf": EVERY_PAGE + ["EXAMPLES"], "hlm-connector": EVERY_PAGE}
EXIT_STATUSES = ["0", "1", "2", "3", "130"]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def page(name):
    return read(os.path.join(MAN_DIR, "%s.%d.adoc" % (name, PAGES[name])))


def sections(text):
    """Level-2 sections ("== NAME") of an AsciiDoc page -> their text."""
    out = {}
    current = None
    for line in text.split("\n"):
        m = re.match(r"== (.+?)\s*$", line)
        if m:
            current = m.group(1)
            out[current] = ""
        elif current:
            out[current] += line + "\n"
    return out


def check_cli_coverage():
    _, out, _ = run([env("HLMCTL"), "__complete", "--list-tree"], check_status=0)
    entries = [e for e in out.decode().split("\n") if e]
    check(any(e == "nodes" for e in entries), "the tree lists `nodes`: %r" % entries)
    hlmctl = page("hlmctl")
    missing = [e for e in entries if e.split(" ")[-1] not in hlmctl]
    check(not missing, "hlmctl.1.adoc lacks: %s" % ", ".join(missing))

    options = set()
    for tool, variable in (("hlm-handler", "HLM_HANDLER"), ("hlm-dispatch", "HLM_DISPATCH")):
        _, out, _ = run([env(variable), "--help"], check_status=0)
        found = set(re.findall(r"(--[a-z][a-z-]+)", out.decode()))
        check(found, "%s --help lists no options" % tool)
        text = sections(page(tool)).get("OPTIONS", "")
        missing = sorted(o for o in found if "*%s*" % o not in text)
        check(not missing, "%s.8.adoc: OPTIONS lacks %s" % (tool, ", ".join(missing)))
        options |= found

    _, out, _ = run([env("HLMCTL"), "__complete", "hlmctl", "no"], check_status=0)
    check(out.decode().split() == ["nodes"], "completing 'no': %r" % out)
    _, out, _ = run([env("HLMCTL"), "__complete", "hlmctl", "nodes", "--js"], check_status=0)
    check(out.decode().split() == ["--json"], "completing 'nodes --js': %r" % out)
    # A mistyped subcommand is a usage error that names the right one.
    _, _, err = run([env("HLMCTL"), "migrat", "AUTH_a/c"], check_status=2)
    check(err.decode().strip() == 'hlmctl: error: unknown command "migrat"; did you mean "migrate"?',
          "hlmctl migrat: %r" % err)
    _, _, err = run([env("HLMCTL"), "xyzzy"], check_status=2)
    check("unknown command" in err.decode() and "migrate, recall, status" in err.decode()
          and "__complete" not in err.decode(), "hlmctl xyzzy: %r" % err)
    return len(entries), len(options)


def example_keys(text):
    """(section, key, value) of every key in hlm.conf.example, commented out
    ("# key = value") or not, and the uncommented text."""
    keys = []
    lines = []
    section = None
    for line in text.split("\n"):
        m = re.match(r"#?\s*\[([A-Za-z0-9_.:-]+)\]\s*$", line)
        if m:
            section = m.group(1)
            lines.append("[%s]" % section)
            continue
        m = re.match(r"#?\s*([a-z_]+)\s*=\s*(.*?)\s*$", line)
        if m:
            check(section, "hlm.conf.example: %r is outside a section" % line)
            keys.append((section, m.group(1), m.group(2)))
            lines.append("%s = %s" % (m.group(1), m.group(2)))
    return keys, "\n".join(lines) + "\n"


def check_config_keys():
    keys, uncommented = example_keys(read(os.path.join(SOURCE_DIR, "etc", "hlm.conf.example")))
    names = {k for _, k, _ in keys}
    check(len(names) >= 10, "hlm.conf.example: only %r" % sorted(names))

    # The parser reads each key with a Settings getter (take_or("key", ...),
    # number("key", ...), ...), [auth]'s from a table row {"key",
    # &swift::AuthOptions::field}; a key it reads that the example lacks
    # would go undocumented.
    parser = read(os.path.join(SOURCE_DIR, "lib", "hlm", "config", "hlm_conf.cpp"))
    read_keys = set(re.findall(
        r"\.(?:take|take_or|number|duration|list|choice|size|real|boolean)\(\s*\"([a-z_]+)\"",
        parser))
    read_keys |= set(re.findall(r"\{\"([a-z_]+)\",\s*&swift::AuthOptions::", parser))
    check(len(read_keys) >= 10,
          "found only %r read in hlm_conf.cpp; update this test to how it reads keys"
          % sorted(read_keys))
    check(read_keys == names,
          "hlm_conf.cpp reads %s that hlm.conf.example lacks; the example has %s that it "
          "does not read" % (sorted(read_keys - names), sorted(names - read_keys)))

    # Every example key is documented, each section under its heading.
    conf = page("hlm.conf")
    headings = sections(conf)
    for section in sorted({s for s, _, _ in keys}):
        heading = "SECTION [node:IP]" if section.startswith("node:") else "SECTION [%s]" % section
        check(heading in headings, "hlm.conf.5.adoc lacks %r" % heading)
        for key in sorted({k for s, k, _ in keys if s == section}):
            check("*%s*" % key in headings[heading],
                  "hlm.conf.5.adoc: %s does not document *%s*" % (heading, key))
    node_keys = sorted({k for s, k, _ in keys if s == "nodes"} - {"local_addresses"})
    for key in node_keys:
        check("*%s*" % key in headings["SECTION [node:IP]"],
              "hlm.conf.5.adoc: [node:IP] does not list *%s*" % key)

    # The parser accepts the example with every key uncommented, and a
    # [node:IP] section with every key [nodes] has but local_addresses (as
    # the page says). hlm-dispatch then stops at the missing swift.conf of
    # an empty swift_dir, which is not the configuration's fault. Control:
    # an unknown key is refused, naming the file.
    values = {k: v for _, k, v in keys}
    tmp = tempfile.mkdtemp(prefix="hlm-man-test-")
    try:
        swift_dir = os.path.join(tmp, "swift")
        os.mkdir(swift_dir)
        text = uncommented.replace("swift_dir = %s" % values["swift_dir"],
                                   "swift_dir = %s" % swift_dir)
        text = text.replace("lock_file = %s" % values["lock_file"],
                            "lock_file = %s" % os.path.join(tmp, "lock"))
        text += "[node:10.0.0.8]\n" + "".join("%s = %s\n" % (k, values[k]) for k in node_keys)
        good = os.path.join(tmp, "example.conf")
        with open(good, "w") as f:
            f.write(text)
        status, _, err = run([env("HLM_DISPATCH"), "--config", good, "--once"])
        err = err.decode()
        check(status == 1 and "swift.conf" in err and good not in err,
              "hlm-dispatch refused the uncommented example (%d): %s\n%s" % (status, err, text))
        bad = os.path.join(tmp, "control.conf")
        with open(bad, "w") as f:
            f.write(text.replace("[dispatch]\n", "[dispatch]\nno_such_key = 1\n"))
        status, _, err = run([env("HLM_DISPATCH"), "--config", bad, "--once"])
        err = err.decode()
        check(status == 1 and bad in err and "unknown key" in err,
              "control: an unknown key was not refused (%d): %s" % (status, err))
    finally:
        shutil.rmtree(tmp)
    return len(names)


def check_pages():
    cmake = read(os.path.join(MAN_DIR, "CMakeLists.txt"))
    m = re.search(r"set\(HLM_MAN_PAGES ([^)]*)\)", cmake)
    check(m, "man/CMakeLists.txt: no set(HLM_MAN_PAGES ...)")
    built = set(m.group(1).split())
    sources = {f[:-len(".adoc")] for f in os.listdir(MAN_DIR) if f.endswith(".adoc")}
    expected = {"%s.%d" % item for item in PAGES.items()}
    check(sources == expected, "man/ holds %s, expected %s" % (sorted(sources), sorted(expected)))
    check(built == expected, "man/CMakeLists.txt builds %s, expected %s"
          % (sorted(built), sorted(expected)))

    for name, section in PAGES.items():
        text = page(name)
        check(text.startswith("= %s(%d)\n" % (name, section)),
              "%s.%d.adoc: title is not %s(%d)" % (name, section, name, section))
        found = sections(text)
        missing = [s for s in REQUIRED[name] if s not in found]
        check(not missing, "%s.%d.adoc lacks %s" % (name, section, ", ".join(missing)))
        if name != "hlm-connector":  # there: the exec program's own statuses
            statuses = re.findall(r"\*(\d+)\*", found["EXIT STATUS"])
            lacking = [s for s in EXIT_STATUSES if s not in statuses]
            check(not lacking, "%s.%d.adoc: EXIT STATUS lacks %s" % (name, section, lacking))

    # References to hlm pages name the right section: *hlm-dispatch*(8) in
    # the pages, hlm-dispatch(8) or man/hlm-dispatch.8.adoc in README.md.
    texts = {"man/%s.%d.adoc" % (n, s): page(n) for n, s in PAGES.items()}
    texts["README.md"] = read(os.path.join(SOURCE_DIR, "README.md"))
    wrong = []
    for where, text in texts.items():
        for name, section in re.findall(r"\b(hlm(?:ctl|[-.][a-z]+)?)\**\((\d)\)", text):
            if PAGES.get(name) != int(section):
                wrong.append("%s: %s(%s)" % (where, name, section))
        for name, section in re.findall(r"man/(hlm[a-z.-]*?)\.(\d)\.adoc", text):
            if PAGES.get(name) != int(section):
                wrong.append("%s: man/%s.%s.adoc" % (where, name, section))
    check(not wrong, "references to missing pages: %s" % ", ".join(wrong))


def main():
    entries, options = check_cli_coverage()
    keys = check_config_keys()
    check_pages()
    print("ok: %d hlmctl entries, %d hlm-handler/hlm-dispatch options, %d hlm.conf keys and "
          "%d pages checked" % (entries, options, keys, len(PAGES)))


if __name__ == "__main__":
    main()
