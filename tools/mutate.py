"""Mutation testing of the functions' shared package (endpoint_updater/core), bounded to chosen functions.

    make mutate                                          # the default selection below
    make mutate MUTATE_ARGS="store.acquire scaling.*"    # functions (module.function, globs allowed)
    make mutate MUTATE_ARGS="--report-only"              # the last results again, without running

mutmut (pinned in requirements-mutate.txt, configured in pyproject.toml's [tool.mutmut]) copies the project
into mutants/, makes every mutant of endpoint_updater/core, and runs each selected mutant against the tests of
tests/unit and tests/integration that reach the mutated function (it records which once, first), stopping at
the first failure. The workflow suites are too slow to run per mutant; functions only they reach are reported
"no tests". Mutants that only reword a message are not run once mutants/ exists (the first run makes them and
runs all). The default selection, about 510 mutants at ~8 s of a core each, takes ~35 minutes on two cores,
plus ~2 minutes to record which tests reach which function. It is never part of `make test`.

The report counts the selected mutants by outcome and prints each survivor's diff, marked "message" when it
only rewords a text (an error message, a log line): those are left unless a message is part of a contract.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

PACKAGE = "endpoint_updater.core"
MUTANTS = Path("mutants") / "endpoint_updater" / "core"
# The endpoint's lock, the capacity raise and the restore that ends every update.
DEFAULT = ("store.acquire", "store.check_free", "store._pending_message", "store.release",
           "store._conditional_update", "store.ensure_holder", "store.read_lock", "store.finish",
           "scaling.raised_count", "scaling.deregister", "plan.capacity_raises", "request._int_in_range",
           "request._is_int", "recovery.restore_and_release")
# mutmut's exit codes, as its stats module names them.
STATUS = {0: "survived", 1: "killed", 3: "killed", 33: "no tests", 5: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          37: "caught by type check", None: "not checked"}


def patterns(functions: list[str]) -> list[str]:
    """mutmut's mutant-name globs for `module.function` selections."""
    globs = []
    for selection in functions:
        module, _, function = selection.partition(".")
        globs.append(f"{PACKAGE}.{module}.{'*' if function in ('', '*') else 'x_' + function}__mutmut_*")
    return globs


def _functions(source: str) -> dict[str, tuple[ast.FunctionDef, str]]:
    lines = source.splitlines()
    return {node.name: (node, "\n".join(lines[node.lineno - 1:node.end_lineno]))
            for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and "__mutmut_" in node.name}


def _message_strings(tree: ast.AST) -> set[int]:
    """The string constants (by node id) that are texts for people: in the arguments of an exception
    (a capitalised callee) or of a log call (its `extra` fields included), or in f-strings."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = node.func
            if (isinstance(callee, ast.Name) and callee.id[:1].isupper()) or (
                    isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name)
                    and callee.value.id == "logger"):
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
                found |= {id(n) for arg in arguments for n in ast.walk(arg) if isinstance(n, ast.Constant)}
        elif isinstance(node, ast.JoinedStr):
            found |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Constant)}
    return found


def _only_text_differs(original: ast.AST, mutant: ast.AST) -> bool:
    """True when the two differ only in the texts of messages (see `_message_strings`)."""
    before, after = list(ast.walk(original)), list(ast.walk(mutant))
    if len(before) != len(after):
        return False
    texts = _message_strings(original)
    differs = False
    for a, b in zip(before, after, strict=True):
        if type(a) is not type(b):
            return False
        if isinstance(a, ast.Constant) and isinstance(b, ast.Constant):
            if a.value != b.value:
                if not (isinstance(a.value, str) and isinstance(b.value, str) and id(a) in texts):
                    return False
                differs = True
        elif not isinstance(a, ast.FunctionDef) and _scalars(a) != _scalars(b):
            return False
    return differs


def _scalars(node: ast.AST) -> list[tuple[str, object]]:
    """A node's own fields (operator kinds are child nodes, and compared by type)."""
    return [(name, value) for name, value in ast.iter_fields(node) if not isinstance(value, ast.AST | list)]


def report(globs: list[str]) -> int:
    results: dict[str, int | None] = {}
    diffs: dict[str, tuple[str, bool]] = {}
    for meta in sorted(MUTANTS.glob("*.py.meta")):
        source = meta.with_suffix("").read_text(encoding="utf-8")
        module = f"{PACKAGE}.{meta.name.removesuffix('.py.meta')}"
        functions = _functions(source)
        for key, code in json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"].items():
            if not any(fnmatch.fnmatch(key, g) for g in globs):
                continue
            results[key] = code
            if STATUS.get(code) == "survived":
                name = key.removeprefix(module + ".")
                original, original_text = functions[re.sub(r"__mutmut_\d+$", "__mutmut_orig", name)]
                mutant, mutant_text = functions[name]
                mutant_text = mutant_text.replace(name, name.split("__mutmut_")[0] + "__mutmut_orig", 1)
                text = "\n".join(difflib.unified_diff(original_text.splitlines(), mutant_text.splitlines(),
                                                     "original", "mutant", n=1, lineterm=""))
                diffs[key] = (text, _only_text_differs(original, mutant))
    if not results:
        print("no mutants match; run without --report-only first", file=sys.stderr)
        return 1
    counts = Counter(STATUS.get(code, f"exit {code}") for code in results.values())
    print(f"{len(results)} mutants: " + ", ".join(f"{n} {status}" for status, n in counts.most_common()))
    messages = [key for key, (_, text) in diffs.items() if text]
    print(f"survivors: {len(diffs)} ({len(messages)} only reword a message)")
    for key, (text, only_message) in sorted(diffs.items()):
        print(f"\n== {key}{' (message)' if only_message else ''}\n{text}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("functions", nargs="*", default=list(DEFAULT), help="module.function, globs allowed")
    parser.add_argument("--max-children", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--report-only", action="store_true", help="report the last results, run nothing")
    args = parser.parse_args()
    globs = patterns(args.functions)
    if not args.report_only:
        # mutmut keeps which tests reach which function from its first run; forget it, so new tests count.
        (Path("mutants") / "mutmut-stats.json").unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children),
                        *(selected(globs) or globs)], check=False, stdout=subprocess.DEVNULL)
    return report(globs)


def selected(globs: list[str]) -> list[str]:
    """The mutants of the chosen functions that change more than a message's wording, once mutmut has made them
    (a first run, with no mutants/ yet, runs them all)."""
    names = []
    for meta in sorted(MUTANTS.glob("*.py.meta")):
        module = f"{PACKAGE}.{meta.name.removesuffix('.py.meta')}"
        functions = _functions(meta.with_suffix("").read_text(encoding="utf-8"))
        for key in json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]:
            if any(fnmatch.fnmatch(key, g) for g in globs):
                name = key.removeprefix(module + ".")
                original = functions[re.sub(r"__mutmut_\d+$", "__mutmut_orig", name)][0]
                if not _only_text_differs(original, functions[name][0]):
                    names.append(key)
    return names


if __name__ == "__main__":
    sys.exit(main())
