"""The randomized fault campaign (issue 10, point 17), for long runs.

    python benchmarks/chaos.py --provider P --runs N [--seed S] [--json] [--verbose]

P is maildir, gmail, graph, imap or all. Seeds S, S+1, ... S+N-1 run per provider (S defaults
to 0); each run is the same seeded script played without faults and with them, judged by the
oracle of `providers/testservers/chaos.py` (see docs/chaos.md). One emulator or Dovecot server
serves all the runs of a provider; imap needs Debian's dovecot-imapd.

Prints, per provider: runs, seconds, faults injected by kind, and every violation with its seed
and the command that reproduces it; `--json` prints one JSON object per provider instead
(provider, runs, seconds, faults, violations, violating_seeds). Progress goes to stderr.
`--verbose` prints each run's log (faults armed, every sync's outcome) and the provider logs.
The exit status is 1 when any violation was found.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from providers.testservers.chaos import (
    DEFAULT_BUDGET,
    RunReport,
    reproduce_command,
    run_seed,
)
from providers.testservers.chaos_rigs import RIGS

PROVIDERS = tuple(RIGS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=(*PROVIDERS, "all"), default="maildir")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="seconds per sync")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL,
        format="    log: %(name)s %(levelname)s %(message)s",
    )
    providers = PROVIDERS if args.provider == "all" else (args.provider,)
    found = False
    for provider in providers:
        summary = _campaign(provider, args)
        found = found or bool(summary["violations"])
        if args.json:
            print(json.dumps(summary), flush=True)
        else:
            _print(summary)
    return 1 if found else 0


def _campaign(provider: str, args: argparse.Namespace) -> dict[str, object]:
    seeds = list(range(args.seed, args.seed + args.runs))
    faults: Counter[str] = Counter()
    violations: list[dict[str, object]] = []
    started = time.perf_counter()
    slowest = 0.0
    rig = RIGS[provider]()
    shm = Path("/dev/shm")  # noqa: S108 (tmpfs: a run's SQLite syncs cost nothing there)
    workdir = shm if shm.is_dir() else None
    try:
        with tempfile.TemporaryDirectory(prefix="mailagent-chaos-", dir=workdir) as tmp:
            for index, seed in enumerate(seeds, start=1):
                report = run_seed(rig, seed, Path(tmp), budget=args.budget)
                faults.update(report.faults)
                slowest = max(slowest, report.seconds)
                violations.extend(
                    {
                        "seed": v.seed,
                        "kind": v.kind,
                        "detail": v.detail,
                        "reproduce": reproduce_command(provider, v.seed),
                    }
                    for v in report.violations
                )
                if args.verbose:
                    _print_run(report)
                print(
                    f"[{provider}] {index}/{len(seeds)} seed {seed}: {report.seconds:.2f} s, "
                    f"{len(report.violations)} violation(s)",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        rig.close()
    seconds = time.perf_counter() - started
    return {
        "provider": provider,
        "runs": len(seeds),
        "first_seed": args.seed,
        "seconds": round(seconds, 1),
        "seconds_per_run": round(seconds / max(1, len(seeds)), 2),
        "slowest_run_s": round(slowest, 2),
        "faults": dict(sorted(faults.items())),
        "violations": violations,
        "violations_by_kind": dict(sorted(Counter(str(v["kind"]) for v in violations).items())),
        "violating_seeds": sorted({int(str(v["seed"])) for v in violations}),
    }


def _print_run(report: RunReport) -> None:
    print(f"seed {report.seed} [{report.provider}] ({report.seconds:.2f} s):")
    for line in report.log:
        print(f"    {line}")


def _print(summary: dict[str, object]) -> None:
    print(
        f"{summary['provider']}: {summary['runs']} runs in {summary['seconds']} s "
        f"({summary['seconds_per_run']} s per run)"
    )
    faults = cast("dict[str, int]", summary["faults"])
    print("  faults injected: " + ", ".join(f"{k} {v}" for k, v in faults.items()))
    violations = cast("list[dict[str, object]]", summary["violations"])
    seeds = cast("list[int]", summary["violating_seeds"])
    print(f"  violations: {len(violations)} in {len(seeds)} run(s)")
    for kind, number in cast("dict[str, int]", summary["violations_by_kind"]).items():
        print(f"    {kind}: {number}")
    for item in violations:
        print(f"  seed {item['seed']} {item['kind']}: {item['detail']}")
        print(f"    reproduce: {item['reproduce']}")


if __name__ == "__main__":
    raise SystemExit(main())
