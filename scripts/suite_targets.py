#!/usr/bin/env python3
"""Prints the ninja targets the tests of the given suites need: each test's
own executable and the tool binaries it runs (its `depends`).

    scripts/suite_targets.py BUILD_DIR SUITE...

Used by scripts/test.sh so that a sanitizer build compiles only what its
tests run, not the whole tree."""
import json
import os
import subprocess
import sys


def introspect(build_dir, what):
    out = subprocess.run(["meson", "introspect", build_dir, what],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    build_dir, suites = sys.argv[1], set(sys.argv[2:])
    root = os.path.realpath(build_dir)
    outputs = {}
    for target in introspect(build_dir, "--targets"):
        outputs[target["id"]] = target["filename"]
    wanted = set()
    for test in introspect(build_dir, "--tests"):
        # Meson prefixes a subproject-less suite with the project name.
        test_suites = {suite.split(":")[-1] for suite in test["suite"]}
        if not test_suites & suites:
            continue
        for path in [test["cmd"][0]] + [f for dep in test["depends"] for f in outputs.get(dep, [])]:
            path = os.path.realpath(path)
            if path.startswith(root + os.sep):
                wanted.add(os.path.relpath(path, root))
    print("\n".join(sorted(wanted)))


if __name__ == "__main__":
    main()
