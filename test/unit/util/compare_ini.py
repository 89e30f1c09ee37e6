"""hlm's INI reader against Python's configparser as Swift's readconf()
creates it (strict, NicerInterpolation), key by key: on the config files
Debian's swift packages install (whose lines run to 285 characters), on
every ```ini snippet of the README and on etc/hlm.conf.example, and on a
file of the cases configparser handles its own way. A snippet must also
not carry an inline comment, which Swift would read as part of the value.

    compare_ini.py INI_DUMP REPO"""

import configparser
import json
import os
import re
import subprocess
import sys
import tempfile

failures = []


class NicerInterpolation(configparser.BasicInterpolation):
    """swift.common.utils.NicerInterpolation."""

    def before_get(self, parser, section, option, value, defaults):
        if "%(" not in value:
            return value
        return super().before_get(parser, section, option, value, defaults)


def python_view(path):
    parser = configparser.ConfigParser(interpolation=NicerInterpolation())
    with open(path) as f:
        parser.read_file(f)
    view = {}
    if parser.defaults():
        view["DEFAULT"] = {k: parser.get("DEFAULT", k) for k in parser.defaults()}
    for section in parser.sections():
        # A section's own keys, not those it inherits from [DEFAULT].
        view[section] = {k: parser.get(section, k) for k in parser._sections[section]}
    return view


def hlm_view(dump, path):
    proc = subprocess.run([dump, path], capture_output=True, timeout=30)
    if proc.returncode != 0:
        return None, proc.stderr.decode(errors="replace").strip()
    return json.loads(proc.stdout), None


def compare(dump, path, label):
    expected = python_view(path)
    got, error = hlm_view(dump, path)
    if error:
        failures.append("%s: hlm could not read it: %s" % (label, error))
        return None
    if got != expected:
        for section in sorted(set(got) | set(expected)):
            a, b = got.get(section), expected.get(section)
            if a != b:
                failures.append("%s [%s]: hlm %r, configparser %r" % (label, section, a, b))
    return got


def snippets(readme):
    with open(readme) as f:
        return re.findall(r"^```ini\n(.*?)^```", f.read(), flags=re.M | re.S)


def main():
    dump, repo = sys.argv[1], sys.argv[2]
    stock = ["/etc/swift/%s.conf" % n for n in
             ("object-server", "container-server", "account-server", "proxy-server", "swift")]
    for path in stock:
        if not os.path.exists(path):
            failures.append("%s is missing (Debian's swift packages install it)" % path)
            continue
        compare(dump, path, path)

    with tempfile.TemporaryDirectory() as tmp:
        texts = [("README.md snippet %d" % (i + 1), t)
                 for i, t in enumerate(snippets(os.path.join(repo, "README.md")))]
        with open(os.path.join(repo, "etc", "hlm.conf.example")) as f:
            texts.append(("etc/hlm.conf.example", f.read()))
        if len(texts) < 3:
            failures.append("found only %d snippets to check" % len(texts))
        for label, text in texts:
            path = os.path.join(tmp, "snippet.conf")
            with open(path, "w") as f:
                f.write(text)
            got = compare(dump, path, label)
            for section, entries in (got or {}).items():
                for key, value in entries.items():
                    if re.search(r"\s[#;]", value):
                        failures.append("%s [%s] %s = %r: an inline comment, which Swift "
                                        "reads as part of the value" % (label, section, key, value))

        cases = (
            "[DEFAULT]\n"
            "Devices = /srv/node\n"
            "[pipeline:main]\n"
            "pipeline = catch_errors gatekeeper healthcheck " + "x " * 150 + "proxy-server\n"
            "[app:x]\n"
            "use: egg:swift#proxy\n"
            "  # an indented comment is still a comment\n"
            "connector = dummy  # not a comment\n"
            "other = 1 ; not a comment either\n"
            "multi = first\n"
            "    second\n"
            "\n"
            "    after a blank line\n"
            "empty =\n"
            "a:b = c\n"
            "pct = 1%\n"
            "interp = %(devices)s/sdb1 and 100%%\n"
            "set log_level = DEBUG\n"
            "[Case Sensitive Section] trailing text\n"
            "KEY\t=\tvalue with\ttabs  \n"
            "[DEFAULT]\n"
            "again = yes\n")
        path = os.path.join(tmp, "cases.conf")
        with open(path, "w") as f:
            f.write(cases)
        compare(dump, path, "cases")

        for label, text, why in (
                ("duplicate key", "[a]\nx = 1\nX = 2\n", "appears twice"),
                ("duplicate section", "[a]\nx = 1\n[b]\n[a]\ny = 2\n", "appears twice"),
                ("no section", "x = 1\n", "before any [section]"),
                ("no delimiter", "[a]\nnot a pair\n", "line 2")):
            with open(path, "w") as f:
                f.write(text)
            try:
                python_view(path)
                failures.append("%s: configparser accepted it" % label)
            except configparser.Error:
                pass
            got, error = hlm_view(dump, path)
            if not error or why not in error:
                failures.append("%s: hlm said %r, expected an error with %r" % (label, error, why))

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("IniFile reads as Swift's configparser does: OK")


if __name__ == "__main__":
    main()
