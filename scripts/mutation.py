"""Mutation testing of the modules that decide safety or money (`make mutation`; not in CI).

mutmut 3 does the work: it copies the tree into `mutants/`, mutates the files listed under
`[tool.mutmut] only_mutate` in pyproject.toml, and runs, for each mutant, only the tests (from
`pytest_add_cli_args_test_selection`) that call the mutated function. This script runs it for
all of those modules or for the ones named, then prints the score per module and, with
`--survivors`, the diff of every mutant the tests let live.

    python scripts/mutation.py                        # every configured module, from scratch
    python scripts/mutation.py anxin.ledger.merkle     # one module (repeatable), from scratch
    python scripts/mutation.py --again                # re-test only what was not killed
    python scripts/mutation.py --report --survivors   # no run: the last results, with diffs

Score = (killed + timed out) / every mutant that was checked; a mutant that no test reaches
counts against the score, as a survivor does. To add a module (lending schedules, APR,
settlement), add its file to `only_mutate` and its tests to `pytest_add_cli_args_test_selection`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
# mutmut's exit-code verdicts (mutmut.stats.status_by_exit_code), folded into what counts here.
# A failing test, or a timeout (an endless loop is caught too).
TIMED_OUT = {-24, 24, 36, 152, 255}
KILLED = {1, 3} | TIMED_OUT
SURVIVED = {0}
NO_TESTS = {5, 33}
NOT_RUN = {None, 2, 34}  # not checked yet, interrupted, skipped: not counted either way


@dataclass
class Score:
    module: str
    killed: int = 0
    timed_out: int = 0  # of the killed
    survived: int = 0
    no_tests: int = 0
    other: int = 0  # suspicious, segfault: counted as checked but not killed

    @property
    def checked(self) -> int:
        return self.killed + self.survived + self.no_tests + self.other

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.checked if self.checked else 0.0


def module_of(mutant: str) -> str:
    """`anxin.ledger.merkle.x_root_at__mutmut_3` → `anxin.ledger.merkle` (methods: `xǁClassǁ…`)."""
    head, _, _ = mutant.partition(".x_")
    if head == mutant:
        head, _, _ = mutant.partition(".xǁ")
    return head


def verdicts() -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        out.update(json.loads(meta.read_text("utf-8"))["exit_code_by_key"])
    return out


def scores(results: dict[str, int | None], modules: list[str]) -> list[Score]:
    by_module: dict[str, Score] = {}
    for mutant, code in results.items():
        module = module_of(mutant)
        if modules and module not in modules:
            continue
        score = by_module.setdefault(module, Score(module))
        if code in NOT_RUN:
            continue
        if code in KILLED:
            score.killed += 1
            score.timed_out += code in TIMED_OUT
        elif code in SURVIVED:
            score.survived += 1
        elif code in NO_TESTS:
            score.no_tests += 1
        else:
            score.other += 1
    return [by_module[m] for m in sorted(by_module)]


def print_table(rows: list[Score]) -> None:
    head = ("module", "mutants", "killed", "(timeout)", "survived", "no tests", "score")
    print("{:28} {:>7} {:>7} {:>9} {:>8} {:>8} {:>6}".format(*head))
    for s in rows:
        print(
            f"{s.module:28} {s.checked:7} {s.killed:7} {s.timed_out:9} {s.survived:8}"
            f" {s.no_tests:8} {s.percent:6.1f}%"
        )


def print_survivors(results: dict[str, int | None], modules: list[str]) -> None:
    # mutmut's own diff (what `mutmut show` prints), called in-process: one call per survivor
    # through the CLI would reload the whole state each time.
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    os.chdir(ROOT)
    for mutant, code in sorted(results.items()):
        if code in SURVIVED | NO_TESTS and (not modules or module_of(mutant) in modules):
            verdict = "survived" if code in SURVIVED else "no tests"
            print(f"\n# {mutant}: {verdict}")
            print(get_diff_for_mutant(mutant))


def mutmut_run(names: list[str], jobs: int) -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    cmd = [str(mutmut), "run", "--max-children", str(jobs), *names]
    # mutmut puts mutants/src first on sys.path itself; an inherited PYTHONPATH pointing at the
    # real src would make the tests import unmutated code, and every mutant would survive.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["ANXIN_MUTATION"] = "1"  # tests/property_budget.py: fewer, fixed examples per property
    return subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="dotted module names, e.g. anxin.ledger.merkle")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--report", action="store_true", help="do not run; report the last run")
    how.add_argument(
        "--again",
        action="store_true",
        help="re-test only what the last run did not kill (after adding tests)",
    )
    parser.add_argument("--survivors", action="store_true", help="print each survivor's diff")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    args = parser.parse_args(argv)
    modules: list[str] = args.modules
    if args.again:
        # Named mutants are re-tested even when mutmut has a verdict cached for them. (After
        # changing the timeout settings, run from scratch: mutmut then drops the timeouts.)
        names = [
            m
            for m, code in verdicts().items()
            if code not in KILLED and (not modules or module_of(m) in modules)
        ]
        if names and (rc := mutmut_run(names, args.jobs)) != 0:
            return rc
    elif not args.report:
        # A fresh copy every time: mutmut keeps verdicts across runs, and a verdict from before
        # a test changed would be reported as today's.
        shutil.rmtree(MUTANTS, ignore_errors=True)
        if (rc := mutmut_run([f"{m}.*" for m in modules], args.jobs)) != 0:
            return rc
    results = verdicts()
    if not results:
        print("no results under mutants/: run without --report first", file=sys.stderr)
        return 2
    print()
    print_table(scores(results, modules))
    if args.survivors:
        print_survivors(results, modules)
    return 0


if __name__ == "__main__":
    sys.exit(main())
