"""Policies as a user meets them: shipped files load, broken files say where and how to fix."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailagent.core.durations import UNITS, Duration, parse_duration
from mailagent.core.policy import (
    STOP_REASONS,
    Policy,
    check_policy_file,
    load_policy,
    shipped_policies,
)
from mailagent.errors import ConfigError, PolicyError

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        check_policy_file(path)
    return str(caught.value).splitlines()


# -- durations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("30m", "30m"),
        ("30 min", "30m"),
        ("90 minutes", "90m"),
        ("24h", "24h"),
        ("2 hours", "2h"),
        ("1 hour", "1h"),
        ("7d", "7d"),
        ("7 days", "7d"),
        ("1 day", "1d"),
        ("2w", "2w"),
        ("2 weeks", "2w"),
        ("5 business days", "5 business days"),
        ("1 business day", "1 business day"),
        ("5bd", "5 business days"),
        ("0m", "0m"),
        ("  7D ", "7d"),
        ("5 Business   Days", "5 business days"),
        ("3 business-days", "3 business days"),
    ],
)
def test_duration_grammar(text: str, canonical: str) -> None:
    assert str(parse_duration(text)) == canonical


@pytest.mark.parametrize(
    "text",
    ["", "7", "d", "7 dayz", "1.5h", "-3d", "7 d 2h", "two weeks", "5 business", "7 fortnights"],
)
def test_duration_grammar_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"use forms like 30m, 24h, 7d, 2w, 5 business days"):
        parse_duration(text)


def test_absurdly_long_durations_are_rejected() -> None:
    with pytest.raises(ValueError, match="ten years"):
        parse_duration("100000d")


@given(st.integers(0, 500), st.sampled_from(UNITS))
def test_canonical_form_parses_back(amount: int, unit: str) -> None:
    duration = Duration(amount, unit)  # type: ignore[arg-type]
    assert parse_duration(str(duration)) == duration


# -- shipped policies ---------------------------------------------------------------------------


def test_three_policies_are_shipped() -> None:
    assert shipped_policies() == ["business-days", "relaxed", "standard"]


@pytest.mark.parametrize("name", ["standard", "relaxed", "business-days"])
def test_every_shipped_policy_loads(name: str) -> None:
    policy = load_policy(name)
    assert policy.name == name
    assert policy.description
    calendar = policy.work_calendar(ZoneInfo("Europe/Berlin"))
    assert calendar.tz == ZoneInfo("Europe/Berlin")
    # A delay exists for every allowed follow-up step.
    for step in range(1, policy.follow_up.max + 1):
        policy.follow_up.delay_for_step(step)


@pytest.mark.parametrize("name", ["standard", "relaxed", "business-days"])
def test_shipped_files_explain_who_they_are_for(name: str) -> None:
    text = (REPO / "policies" / f"{name}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# "), "each shipped policy opens with a comment header"


def test_standard_policy_timings() -> None:
    policy = load_policy("standard")
    assert str(policy.thank_you.draft_after) == "30m"
    assert str(policy.thank_you.due_within) == "24h"
    assert str(policy.thank_you.late_grace) == "72h"
    assert policy.thank_you.per_interviewer
    assert [str(d) for d in policy.follow_up.after] == ["7d", "14d"]
    assert policy.follow_up.max == 2
    assert str(policy.follow_up.min_spacing) == "5d"
    assert policy.follow_up.stop_on == frozenset(STOP_REASONS)
    assert policy.rejection_reply.enabled
    assert policy.rejection_reply.draft_after == Duration(0, "minutes")
    assert str(policy.lookback) == "30d"
    assert not policy.draft_in_working_hours


def test_relaxed_policy_timings() -> None:
    policy = load_policy("relaxed")
    assert str(policy.thank_you.draft_after) == "2h"
    assert str(policy.thank_you.due_within) == "48h"
    assert policy.follow_up.max == 1
    assert policy.follow_up.after == (Duration(10, "business_days"),)
    assert policy.follow_up.after_decision_date == Duration(2, "business_days")


def test_business_days_policy_timings() -> None:
    policy = load_policy("business-days")
    assert policy.draft_in_working_hours
    assert str(policy.thank_you.draft_after) == "30m"
    assert str(policy.thank_you.due_within) == "24h"
    assert policy.follow_up.after == (Duration(5, "business_days"), Duration(10, "business_days"))
    assert policy.follow_up.max == 2
    assert policy.calendar.holidays_country == "US"
    calendar = policy.work_calendar(ZoneInfo("America/Chicago"))
    assert not calendar.is_business_day(date(2026, 11, 26))


def test_policy_values_are_frozen() -> None:
    policy = load_policy("standard")
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.name = "other"  # type: ignore[misc]
    assert isinstance(policy.follow_up.after, tuple)
    assert isinstance(policy.follow_up.stop_on, frozenset)
    assert hash(policy) == hash(load_policy("standard"))


# -- loading ------------------------------------------------------------------------------------


def test_a_minimal_file_gets_the_standard_defaults_and_its_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "thank_you: {draft_after: 1h}\n", "quick.yaml")
    policy = check_policy_file(path)
    assert policy.name == "quick"
    assert policy.thank_you.draft_after == Duration(1, "hours")
    standard = load_policy("standard")
    assert policy.follow_up == standard.follow_up
    assert policy.calendar == standard.calendar
    assert policy.source == str(path)


def test_load_policy_reads_a_path_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    write(tmp_path / "rules", "name: mine\nfollow_up: {max: 1, after: [3d]}\n", "mine.yaml")
    policy = load_policy("rules/mine.yaml", base_dir=tmp_path)
    assert policy.name == "mine"
    assert policy.follow_up.delay_for_step(1) == Duration(3, "days")


def test_unknown_shipped_name_suggests_the_close_one() -> None:
    with pytest.raises(PolicyError, match='did you mean "relaxed"') as caught:
        load_policy("relaxd")
    assert "standard" in caught.value.advice


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=re.escape(str(tmp_path / "nope.yaml"))):
        load_policy("nope.yaml", base_dir=tmp_path)


def test_policy_error_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_policy_file(write(tmp_path, "lookback: soon\n"))
    assert caught.value.exit_code == 2
    assert "docs/policies.md" in caught.value.advice


# -- follow-up steps ----------------------------------------------------------------------------


def test_last_delay_repeats_when_max_exceeds_the_list(tmp_path: Path) -> None:
    policy = check_policy_file(write(tmp_path, "follow_up: {after: [7d, 14d], max: 4}\n"))
    delays = [str(policy.follow_up.delay_for_step(n)) for n in range(1, 5)]
    assert delays == ["7d", "14d", "14d", "14d"]
    with pytest.raises(ValueError, match="1 to 4"):
        policy.follow_up.delay_for_step(5)
    with pytest.raises(ValueError, match="1 to 4"):
        policy.follow_up.delay_for_step(0)


def test_late_grace_equal_to_due_within_turns_late_thank_yous_off(tmp_path: Path) -> None:
    policy = check_policy_file(write(tmp_path, "thank_you: {due_within: 24h, late_grace: 24h}\n"))
    assert policy.thank_you.late_grace == Duration(24, "hours")


def test_a_single_delay_may_be_written_without_brackets(tmp_path: Path) -> None:
    policy = check_policy_file(write(tmp_path, "follow_up: {after: 10 business days, max: 1}\n"))
    assert policy.follow_up.after == (Duration(10, "business_days"),)


# -- broken files -------------------------------------------------------------------------------

BROKEN = [
    pytest.param(
        "follow_up:\n  after: [7d, 7 dayz]\n",
        'mine.yaml:2: follow_up.after[1]: "7 dayz" is not a duration',
        "use forms like 30m, 24h, 7d, 2w, 5 business days",
        id="bad-duration",
    ),
    pytest.param(
        "thank_you:\n  draft_after: 48h\n  due_within: 24h\n",
        "mine.yaml:3: thank_you.due_within:",
        "raise due_within or lower draft_after",
        id="due-before-draft",
    ),
    pytest.param(
        "thank_you:\n  due_within: 48h\n  late_grace: 36h\n",
        "mine.yaml:3: thank_you.late_grace:",
        "raise late_grace to at least due_within (48h)",
        id="late-grace-inside-the-window",
    ),
    pytest.param(
        "thank_you:\n  late_grace: later\n",
        'mine.yaml:2: thank_you.late_grace: "later" is not a duration',
        "use forms like 30m, 24h",
        id="late-grace-not-a-duration",
    ),
    pytest.param(
        "follow_up:\n  min_spacing: 0d\n",
        "mine.yaml:2: follow_up.min_spacing:",
        "use a spacing longer than 0",
        id="zero-min-spacing",
    ),
    pytest.param(
        "follow_up:\n  max: 11\n",
        "mine.yaml:2: follow_up.max:",
        "use 0 to 10",
        id="max-too-high",
    ),
    pytest.param(
        "follow_up:\n  stop_on: [reply, replied]\n",
        'mine.yaml:2: follow_up.stop_on[1]: "replied" is not a reason to stop',
        "use reply, rejection, offer, next_round",
        id="unknown-stop-reason",
    ),
    pytest.param(
        'working_hours: {start: "18:00", end: "09:00"}\n',
        "mine.yaml:1: working_hours.end:",
        "must end later the same day",
        id="hours-reversed",
    ),
    pytest.param(
        "working_hours:\n  days: [mon, tue, wensday]\n",
        'mine.yaml:2: working_hours.days[2]: "wensday" is not a day',
        "use mon, tue, wed, thu, fri, sat, sun",
        id="unknown-day",
    ),
    pytest.param(
        "holidays: {country: XX}\n",
        'mine.yaml:1: holidays.country: "XX" is not a country',
        "use an ISO 3166 code like US, GB",
        id="unknown-country",
    ),
    pytest.param(
        "holidays: {country: US, subdivision: ZZ}\n",
        'mine.yaml:1: holidays.subdivision: "ZZ" is not a subdivision of US',
        "use AK, AL",
        id="unknown-subdivision",
    ),
    pytest.param(
        "thank_you:\n  enabled: true\n  draft_afer: 30m\n",
        "mine.yaml:3: thank_you.draft_afer: unknown key",
        'did you mean "draft_after"?); allowed here: draft_after, due_within, enabled',
        id="typo-key",
    ),
    pytest.param(
        "name: x\nfollow_ups: {max: 1}\n",
        "mine.yaml:2: follow_ups: unknown key",
        'did you mean "follow_up"?',
        id="typo-top-level-key",
    ),
    pytest.param(
        "thank_you:\n  enabled: maybe\n",
        'mine.yaml:2: thank_you.enabled: "maybe" is not true or false',
        "write true or false",
        id="not-a-bool",
    ),
    pytest.param(
        "working_hours:\n  start: 9am\n",
        'mine.yaml:2: working_hours.start: "9am" is not a time',
        'like "09:00"',
        id="bad-time",
    ),
    pytest.param(
        "follow_up:\n  after: []\n  max: 2\n",
        "mine.yaml:3: follow_up.max:",
        "list them in after, like [7d, 14d]",
        id="max-without-delays",
    ),
    pytest.param(
        "lookback: 0d\n",
        "mine.yaml:1: lookback:",
        "use days or weeks, like 30d",
        id="zero-lookback",
    ),
    pytest.param(
        "follow_up:\n  max: 1\nfollow_up:\n  max: 2\n",
        "mine.yaml:3: follow_up: duplicate key (first on line 1)",
        "keep one",
        id="duplicate-key",
    ),
    pytest.param(
        "rejection_reply: [1]\n",
        "mine.yaml:1: rejection_reply:",
        "write key: value lines indented under it",
        id="section-not-mapping",
    ),
]


@pytest.mark.parametrize(("text", "where", "fix"), BROKEN)
def test_broken_file_names_file_field_and_fix(
    tmp_path: Path, text: str, where: str, fix: str
) -> None:
    lines = problems(write(tmp_path, text))
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(tmp_path / "mine.yaml")), lines[0]
    assert where in lines[0]
    assert fix in lines[0]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: several\n"
        "lookback: soon\n"
        "thank_you:\n"
        "  enabled: maybe\n"
        "follow_up:\n"
        "  after: [7d, 7 dayz]\n"
        "  max: 99\n"
        "  colour: blue\n",
    )
    lines = problems(path)
    fields = [line.split(": ")[1] for line in lines]
    assert fields == [
        "lookback",
        "thank_you.enabled",
        "follow_up.after[1]",
        "follow_up.max",
        "follow_up.colour",
    ]
    assert all(line.startswith(f"{path}:") for line in lines)


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nthank_you:\n  draft_after: [30m\n")
    with pytest.raises(PolicyError, match=r"YAML syntax error") as caught:
        check_policy_file(path)
    message = str(caught.value)
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", message)
    assert "line 3, column 16" in message  # where the unclosed list starts


def test_bad_indentation_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "thank_you:\n  enabled: true\n    draft_after: 30m\n")
    with pytest.raises(PolicyError, match=re.escape(f"{path}:3:")):
        check_policy_file(path)


@pytest.mark.parametrize("text", ["", "\n\n", "# nothing but a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError, match="the file is empty") as caught:
        check_policy_file(path)
    assert "standard" in caught.value.advice


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="expected policy keys"):
        check_policy_file(write(tmp_path, "- 7d\n- 14d\n"))


def test_yaml_1_1_traps_are_read_as_written(tmp_path: Path) -> None:
    # Unquoted 18:00 is the number 1080 in YAML 1.1, and NO (Norway) is false.
    policy = check_policy_file(
        write(tmp_path, "working_hours: {start: 8:30, end: 17:00}\nholidays: {country: NO}\n")
    )
    assert (policy.calendar.start, policy.calendar.end) == (time(8, 30), time(17, 0))
    assert policy.calendar.holidays_country == "NO"


def test_holidays_null_means_weekends_only(tmp_path: Path) -> None:
    policy = check_policy_file(write(tmp_path, "holidays: null\n"))
    calendar = policy.work_calendar(ZoneInfo("America/New_York"))
    assert calendar.is_business_day(date(2026, 11, 26))


def test_country_and_subdivision_are_normalised(tmp_path: Path) -> None:
    policy = check_policy_file(write(tmp_path, "holidays: {country: us, subdivision: ca}\n"))
    assert (policy.calendar.holidays_country, policy.calendar.holidays_subdivision) == ("US", "CA")


def test_policy_type_is_what_load_returns() -> None:
    assert isinstance(load_policy("standard"), Policy)


# -- hostile files: an error in bounded time, never a traceback or a stall ----------------------


@pytest.mark.parametrize(
    "text", ["999999999 weeks", "99999999999999999999 days", "9" * 5000 + " minutes"]
)
def test_a_duration_too_large_for_a_datetime_is_an_error(tmp_path: Path, text: str) -> None:
    found = problems(write(tmp_path, f"lookback: {text}\n"))
    assert len(found) == 1
    assert "lookback" in found[0]
    assert "longer than ten years" in found[0]


def _alias_bomb(levels: int = 10) -> str:
    lines = ["name: bomb", 'lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 8) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(_alias_bomb(), "aliases", id="billion-laughs"),
        pytest.param("lookback: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested", id="deep-list"),
        pytest.param(
            "thank_you: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n", "nested", id="deep-map"
        ),
        pytest.param("name: x\n" + "# padding\n" * 20_000, "larger", id="huge"),
    ],
)
def test_a_yaml_bomb_is_refused_quickly(tmp_path: Path, text: str, says: str) -> None:
    import time as clock

    path = write(tmp_path, text)
    started = clock.monotonic()
    with pytest.raises(PolicyError) as caught:
        check_policy_file(path)
    assert clock.monotonic() - started < 2
    assert says in str(caught.value)
    assert str(path) in str(caught.value)
    assert caught.value.advice


def test_a_small_alias_is_still_fine(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "follow_up:\n  after: &week [7d, 14d]\n  max: 2\n"
        "thank_you: {draft_after: 30m, due_within: 24h}\n",
    )
    assert [str(d) for d in check_policy_file(path).follow_up.after] == ["7d", "14d"]
