"""Quality of interview detection and extraction on the labelled corpus (issue 12, point 6).

    python benchmarks/quality.py [--json] [--corpus DIR]

Runs `detect_event` over every case of fixtures/interviews/ (see benchmarks/interview_corpus.py)
and prints: precision and recall of "is this an interview", the share of detected interviews
whose company, role and interviewers are exactly right, the same per language, and every miss;
then composes the thank-you draft of every detected interview and reports any that fail.
It measures; it asserts nothing (tests/test_interview_corpus.py asserts case by case).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks.interview_corpus import CORPUS_DIR, Outcome, evaluate, load_corpus
from mailagent.core.compose import TemplateComposer
from mailagent.core.detect import detect_event
from mailagent.core.models import DraftKind, DraftRequest
from mailagent.errors import MailAgentError

WIDTH = 80


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 1.0


def score(outcomes: Sequence[Outcome]) -> dict[str, object]:
    """Rates over `outcomes`; field rates count true interviews that were detected."""
    true_pos = sum(o.detected and o.case.expect.interview for o in outcomes)
    detected = sum(o.detected for o in outcomes)
    actual = sum(o.case.expect.interview for o in outcomes)
    found = [o for o in outcomes if o.detected and o.case.expect.interview]
    return {
        "cases": len(outcomes),
        "interviews": actual,
        "detection_precision": _ratio(true_pos, detected),
        "detection_recall": _ratio(true_pos, actual),
        "company_exact": _ratio(sum(o.company_ok for o in found), len(found)),
        "role_exact": _ratio(sum(o.role_ok for o in found), len(found)),
        "interviewers_exact": _ratio(sum(o.interviewers_ok for o in found), len(found)),
        "language_exact": _ratio(sum(o.language_ok for o in found), len(found)),
    }


def compose_all(outcomes: Sequence[Outcome]) -> list[str]:
    """Compose the thank-you for every detected interview; one line per draft that failed."""
    composer = TemplateComposer()
    failures = []
    for outcome in outcomes:
        case = outcome.case
        interview = detect_event(case.event, case.user).interview
        if interview is None:
            continue
        to = interview.interviewers[0] if interview.interviewers else case.user.primary
        request = DraftRequest(
            "quality", DraftKind.THANK_YOU, 1, interview, to, case.user.primary, "UTC"
        )
        try:
            composer.compose(request)
        except MailAgentError as exc:
            failures.append(f"{case.id}: {exc}")
    return failures


def report(outcomes: Sequence[Outcome]) -> dict[str, object]:
    result = score(outcomes)
    failures = compose_all(outcomes)
    result["drafts_composed"] = sum(o.detected for o in outcomes) - len(failures)
    result["compose_failures"] = failures
    languages = sorted({o.case.language for o in outcomes})
    result["by_language"] = {
        lang: score([o for o in outcomes if o.case.language == lang]) for lang in languages
    }
    result["misses"] = [
        {"id": o.case.id, "file": o.case.file, "misses": o.misses()}
        for o in outcomes
        if not o.passed
    ]
    return result


def _print_text(result: dict[str, object], corpus: Path) -> None:
    def line(label: str, rates: dict[str, object]) -> None:
        print(
            f"{label:<6} cases {rates['cases']:>4}  precision {rates['detection_precision']:.3f}"
            f"  recall {rates['detection_recall']:.3f}"
        )
        print(
            f"{'':<6} company {rates['company_exact']:.3f}  role {rates['role_exact']:.3f}"
            f"  interviewers {rates['interviewers_exact']:.3f}"
            f"  language {rates['language_exact']:.3f}"
        )

    print(f"Interview detection and extraction on {corpus}")
    line("all", result)
    by_language = cast("dict[str, dict[str, object]]", result["by_language"])
    for lang, rates in by_language.items():
        line(lang, rates)
    print(f"Thank-you drafts composed: {result['drafts_composed']}")
    for failure in cast("list[str]", result["compose_failures"]):
        print(textwrap.fill(f"compose failed: {failure}", WIDTH))
    misses = cast("list[dict[str, Any]]", result["misses"])
    print(f"\nMisses: {len(misses)}")
    for miss in misses:
        print(f"- {miss['id']} ({miss['file']})")
        for text in miss["misses"]:
            print(textwrap.fill(text, WIDTH, initial_indent="    ", subsequent_indent="      "))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=CORPUS_DIR,
        help="corpus folder (fixtures/interviews-holdout-2: cases written apart from the code)",
    )
    args = parser.parse_args(argv)
    result = report([evaluate(case) for case in load_corpus(args.corpus)])
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_text(result, args.corpus)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
