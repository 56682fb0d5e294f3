#!/usr/bin/env python3
"""Counts test cases across the meson runs of `make check` and prints one
summary line per run and a final 'N passed, M failed'.

Each meson test speaks TAP; a case is an `ok`/`not ok` line.  A test program
that failed without reporting a failing case (crash, sanitizer abort,
valgrind error) counts as one more failure.  Exit status 1 on any failure.
"""
import json
import os
import re
import sys

OK = re.compile(r"^ok \d+")
NOT_OK = re.compile(r"^not ok \d+")


def count_log(path):
    passed = failed = 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            out = t.get("stdout") or ""
            p = sum(1 for l in out.splitlines() if OK.match(l))
            n = sum(1 for l in out.splitlines() if NOT_OK.match(l))
            if t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and n == 0:
                n = 1
                print("  %s: %s (no failing case reported: crash or tool error)"
                      % (t.get("name"), t.get("result")))
            passed += p
            failed += n
    return passed, failed


def main():
    total_p = total_f = 0
    for build in sys.argv[1:]:
        logs = os.path.join(build, "meson-logs")
        if not os.path.isdir(logs):
            continue
        names = sorted(n for n in os.listdir(logs)
                       if n.endswith(".json") and (n == "testlog.json" or "valgrind" in n))
        for name in names:
            path = os.path.join(logs, name)
            p, f = count_log(path)
            label = "%s/%s" % (build, "valgrind" if "valgrind" in name else "tests")
            print("%-22s %d passed, %d failed" % (label + ":", p, f))
            total_p += p
            total_f += f
    print("%d passed, %d failed" % (total_p, total_f))
    return 1 if total_f or total_p == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
