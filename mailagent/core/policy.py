"""Timing policies: validated YAML at the edge, frozen rules in the core.

Design notes:

- The planner reads a `Policy` like a table; nothing here decides what to draft.
- Pydantic models (`extra="forbid"` everywhere) check a file; `Policy` and its rules are frozen
  dataclasses the core passes around. Every field has a default (the `standard` policy's
  value), so a file states only what it changes.
- Every problem in a file is reported at once, one line each, as
  ``FILE:LINE: field.path: what is wrong; how to fix it``. Line numbers come from the YAML node
  tree, so they point at the key the user has to edit.
- The YAML reader follows YAML 1.2 for scalars: ``18:00`` stays a string (YAML 1.1 reads it as
  the base-60 number 1080) and ``NO`` (Norway) stays a string (YAML 1.1 reads it as false).
  Duplicate keys are errors, not a silent "last one wins".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from mailagent.core.durations import ACCEPTED_FORMS, Duration, parse_duration
from mailagent.core.language import LANGUAGE_NAMES, LANGUAGES
from mailagent.core.validation_text import (
    TYPE_FIXES,
    describe,
    did_you_mean,
    dotted,
    meaningful,
    problem,
    show,
)
from mailagent.core.workcal import MON_TO_FRI, WEEKDAYS, WorkCalendar
from mailagent.errors import PolicyError

__all__ = [
    "LANGUAGE_CHOICES",
    "STOP_REASONS",
    "CalendarRule",
    "FollowUpRule",
    "Policy",
    "RejectionReplyRule",
    "ThankYouRule",
    "check_policy_file",
    "load_policy",
    "shipped_policies",
]

LANGUAGE_CHOICES: tuple[str, ...] = ("auto", *LANGUAGES)
"""Values of `language`: auto, or a language every draft is written in."""

STOP_REASONS: tuple[str, ...] = ("reply", "rejection", "offer", "next_round")
"""What may end a follow-up sequence (`follow_up.stop_on`)."""

MAX_FOLLOW_UPS = 10
"""More than ten unanswered follow-ups to one company is never good advice."""

_ADVICE = "See docs/policies.md for every field, its default and its allowed values."


# -- frozen core --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarRule:
    """What a `WorkCalendar` is built from, minus the zone (that comes from the account)."""

    working_days: frozenset[int] = MON_TO_FRI
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays_country: str | None = None
    holidays_subdivision: str | None = None

    def work_calendar(self, tz: ZoneInfo) -> WorkCalendar:
        return WorkCalendar(
            tz=tz,
            working_days=self.working_days,
            start=self.start,
            end=self.end,
            holidays_country=self.holidays_country,
            holidays_subdivision=self.holidays_subdivision,
        )


@dataclass(frozen=True, slots=True)
class ThankYouRule:
    enabled: bool
    draft_after: Duration
    """After the interview ends."""
    due_within: Duration
    """After the interview ends; pulled back into working hours, never before the draft."""
    per_interviewer: bool
    """False: one note, to the most senior or first interviewer only (never a group mail)."""
    skip_if_already_thanked: bool
    late_grace: Duration
    """After the interview ends: a note first seen past `due_within` is still drafted, marked
    late, until then (late is better than never); past it, never. Not shorter than
    `due_within` (equal: no late notes)."""


@dataclass(frozen=True, slots=True)
class FollowUpRule:
    enabled: bool
    after: tuple[Duration, ...]
    """Step n waits `after[n-1]` after the user's previous message to the company (the
    thank-you, a sent follow-up or any later message, whichever is latest)."""
    max: int
    min_spacing: Duration
    """The least wait after the user's previous message, whatever `after` says: so two
    follow-ups are never closer than this."""
    respect_decision_date: bool
    after_decision_date: Duration
    stop_on: frozenset[str]
    snooze_on_auto_reply: bool

    def delay_for_step(self, step: int) -> Duration:
        """The wait before follow-up `step` (1-based); past the end of `after`, its last
        delay repeats."""
        if not 1 <= step <= self.max:
            raise ValueError(f"follow-up step must be 1 to {self.max}, got {step}")
        return self.after[min(step, len(self.after)) - 1]


@dataclass(frozen=True, slots=True)
class RejectionReplyRule:
    enabled: bool
    draft_after: Duration
    """After the rejection arrives; 0m = at the next sync."""


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    description: str
    calendar: CalendarRule
    lookback: Duration
    """How far back a first sync reads calendar and mail."""
    thank_you: ThankYouRule
    follow_up: FollowUpRule
    rejection_reply: RejectionReplyRule
    draft_in_working_hours: bool = False
    """True: a draft that comes due outside working hours waits for the next working window."""
    language: str = "auto"
    """The language of the drafts: "auto" (each interview's own, `mailagent.core.language`) or one
    of `LANGUAGE_CHOICES` for all of them."""
    source: str = field(default="", compare=False)
    """The file the policy was read from, for messages (not part of equality)."""

    def work_calendar(self, tz: ZoneInfo) -> WorkCalendar:
        return self.calendar.work_calendar(tz)

    def draft_language(self, interview_language: str) -> str:
        """The language to write an interview's drafts in: the forced one, else its own."""
        return interview_language if self.language == "auto" else self.language


# -- validation helpers -------------------------------------------------------------------------


def _to_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise problem(f"{show(value)} is not a duration; use forms like {ACCEPTED_FORMS}")
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise problem(str(exc)) from None


_TIME = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def _to_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise problem(f'{show(value)} is not a time; write 24-hour "HH:MM" in quotes, like "09:00"')
    return time(int(match[1]), int(match[2]))


def _to_weekday(value: Any) -> int:
    names = {name: i for i, name in enumerate(WEEKDAYS)}
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    names |= {name: i for i, name in enumerate(full)}
    key = value.strip().lower() if isinstance(value, str) else None
    if key is None or key not in names:
        raise problem(
            f"{show(value)} is not a day; use {', '.join(WEEKDAYS)}"
            + (did_you_mean(key, list(names)) if key else "")
        )
    return names[key]


def _to_stop_reason(value: Any) -> str:
    key = value.strip().lower() if isinstance(value, str) else None
    if key is None or key not in STOP_REASONS:
        raise problem(
            f"{show(value)} is not a reason to stop; use {', '.join(STOP_REASONS)}"
            + (did_you_mean(key, list(STOP_REASONS)) if key else "")
        )
    return key


_LANGUAGE_BY_NAME = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}


def _to_language(value: Any) -> str:
    """A language code; its English name ("German") is accepted too."""
    key = value.strip().lower() if isinstance(value, str) else None
    key = _LANGUAGE_BY_NAME.get(key, key) if key is not None else None
    if key is None or key not in LANGUAGE_CHOICES:
        names = ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in LANGUAGES)
        raise problem(
            f"{show(value)} is not a language; use auto (each interview's own) or one of "
            f"{names}" + (did_you_mean(key, list(LANGUAGE_CHOICES)) if key else "")
        )
    return key


def _listify(value: Any) -> Any:
    """Let a one-element list be written as a bare value: ``after: 7d``."""
    return [value] if isinstance(value, str) else value


def _code_or_none(value: Any) -> Any:
    """Subdivision codes can be numbers ("01"); accept them unquoted."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


DurationField = Annotated[Duration, PlainValidator(_to_duration)]
TimeField = Annotated[time, PlainValidator(_to_time)]
WeekdayField = Annotated[int, PlainValidator(_to_weekday)]
StopReasonField = Annotated[str, PlainValidator(_to_stop_reason)]
LanguageField = Annotated[str, PlainValidator(_to_language)]


def _surely_longer(a: Duration, b: Duration) -> bool:
    """Whether `a` is longer than `b` wherever they start.

    Business days have no upper bound (holidays), so a calendar-unit `a` is never surely longer
    than a non-zero business-day `b`.
    """
    if a.unit == b.unit:
        return a.amount > b.amount
    if b.unit == "business_days" and not b.is_zero:
        return False
    return a.nominal() > b.nominal()


# -- edge models --------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkingHoursModel(_Strict):
    days: tuple[WeekdayField, ...] = (0, 1, 2, 3, 4)
    start: TimeField = time(9, 0)
    end: TimeField = time(18, 0)

    @field_validator("days")
    @classmethod
    def _some_days(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days:
            raise problem("list at least one working day, like [mon, tue, wed, thu, fri]")
        return days

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if isinstance(start, time) and not start < end:
            raise problem(
                f'"{end:%H:%M}" is not after start "{start:%H:%M}"; working hours must end '
                "later the same day (overnight windows are not supported)"
            )
        return end


class HolidaysModel(_Strict):
    country: str | None = None
    subdivision: Annotated[str | None, BeforeValidator(_code_or_none)] = None

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str | None) -> str | None:
        if country is None:
            return None
        code = country.strip().upper()
        supported = holidays_lib.list_supported_countries()
        if code not in supported:
            raise problem(
                f"{show(country)} is not a country the holidays package knows; use an "
                "ISO 3166 code like US, GB, DE, FR, or null for weekends only"
                + did_you_mean(code, list(supported))
            )
        return code

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        if subdivision is None:
            return None
        if "country" not in info.data:
            return subdivision  # the country is wrong; that error is enough
        country = info.data["country"]
        if country is None:
            raise problem("a subdivision needs a country; set holidays.country too")
        known = holidays_lib.list_supported_countries()[country]
        by_upper = {code.upper(): code for code in known}
        code = subdivision.strip().upper()
        if code not in by_upper:
            if not known:
                raise problem(f"{country} has no subdivisions in the holidays package; use null")
            listed = ", ".join(known[:20]) + (
                f" and {len(known) - 20} more" if len(known) > 20 else ""
            )
            raise problem(f"{show(subdivision)} is not a subdivision of {country}; use {listed}")
        return by_upper[code]


class ThankYouModel(_Strict):
    enabled: bool = True
    draft_after: DurationField = Duration(30, "minutes")
    due_within: DurationField = Duration(24, "hours")
    per_interviewer: bool = True
    skip_if_already_thanked: bool = True
    late_grace: DurationField = Duration(72, "hours")

    @field_validator("due_within")
    @classmethod
    def _after_draft(cls, due: Duration, info: ValidationInfo) -> Duration:
        draft_after = info.data.get("draft_after")
        if isinstance(draft_after, Duration) and not _surely_longer(due, draft_after):
            raise problem(
                f"{due} is not longer than draft_after ({draft_after}); a note must be due "
                "after it is drafted: raise due_within or lower draft_after"
                + (
                    " (or use business days for both)"
                    if "business_days" in (due.unit, draft_after.unit)
                    and due.unit != draft_after.unit
                    else ""
                )
            )
        return due

    @field_validator("late_grace")
    @classmethod
    def _not_inside_the_window(cls, grace: Duration, info: ValidationInfo) -> Duration:
        """Runs only on a value the file states: the default (72h) with a longer `due_within`
        just means no late notes, which the planner handles."""
        due = info.data.get("due_within")
        if isinstance(due, Duration) and _surely_longer(due, grace):
            raise problem(
                f"{grace} ends before due_within ({due}); late_grace is counted from the end of "
                f"the interview too: raise late_grace to at least due_within ({due}), or set it "
                "equal to due_within for no late thank-yous"
            )
        return grace


class FollowUpModel(_Strict):
    enabled: bool = True
    after: Annotated[tuple[DurationField, ...], BeforeValidator(_listify)] = (
        Duration(7, "days"),
        Duration(14, "days"),
    )
    max: int = 2
    min_spacing: DurationField = Duration(5, "days")
    respect_decision_date: bool = True
    after_decision_date: DurationField = Duration(1, "business_days")
    stop_on: tuple[StopReasonField, ...] = STOP_REASONS
    snooze_on_auto_reply: bool = True

    @field_validator("after")
    @classmethod
    def _positive(cls, after: tuple[Duration, ...]) -> tuple[Duration, ...]:
        for delay in after:
            if delay.is_zero:
                raise problem(f"{delay} would follow up at once; every delay must be longer than 0")
        return after

    @field_validator("min_spacing")
    @classmethod
    def _some_spacing(cls, spacing: Duration) -> Duration:
        if spacing.is_zero:
            raise problem(
                f"{spacing} would allow follow-ups back to back; use a spacing longer than 0, like 5d"
            )
        return spacing

    @field_validator("max")
    @classmethod
    def _bounded(cls, value: int, info: ValidationInfo) -> int:
        if not 0 <= value <= MAX_FOLLOW_UPS:
            raise problem(f"{value} is out of range; use 0 to {MAX_FOLLOW_UPS} (0 = no follow-ups)")
        if value > 0 and info.data.get("after") == ():
            raise problem(f"{value} follow-ups need delays; list them in after, like [7d, 14d]")
        return value


class RejectionReplyModel(_Strict):
    enabled: bool = True
    draft_after: DurationField = Duration(0, "minutes")


class PolicyModel(_Strict):
    name: str | None = None
    description: str = ""
    working_hours: WorkingHoursModel = Field(default_factory=WorkingHoursModel)
    holidays: HolidaysModel | None = None
    draft_in_working_hours: bool = False
    language: LanguageField = "auto"
    lookback: DurationField = Duration(30, "days")
    thank_you: ThankYouModel = Field(default_factory=ThankYouModel)
    follow_up: FollowUpModel = Field(default_factory=FollowUpModel)
    rejection_reply: RejectionReplyModel = Field(default_factory=RejectionReplyModel)

    @field_validator("name")
    @classmethod
    def _named(cls, name: str | None) -> str | None:
        if name is not None and not name.strip():
            raise problem("the name is empty; give a short name like my-policy, or remove the key")
        return name.strip() if name is not None else None

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, lookback: Duration) -> Duration:
        if lookback.is_zero or lookback.unit == "business_days":
            raise problem(f"{lookback} cannot be a lookback; use days or weeks, like 30d")
        return lookback

    def to_policy(self, *, default_name: str, source: str) -> Policy:
        hours, days_off, ty, fu, rr = (
            self.working_hours,
            self.holidays or HolidaysModel(),
            self.thank_you,
            self.follow_up,
            self.rejection_reply,
        )
        return Policy(
            name=self.name or default_name,
            description=self.description.strip(),
            calendar=CalendarRule(
                working_days=frozenset(hours.days),
                start=hours.start,
                end=hours.end,
                holidays_country=days_off.country,
                holidays_subdivision=days_off.subdivision,
            ),
            lookback=self.lookback,
            thank_you=ThankYouRule(
                enabled=ty.enabled,
                draft_after=ty.draft_after,
                due_within=ty.due_within,
                per_interviewer=ty.per_interviewer,
                skip_if_already_thanked=ty.skip_if_already_thanked,
                late_grace=ty.late_grace,
            ),
            follow_up=FollowUpRule(
                enabled=fu.enabled,
                after=fu.after,
                max=fu.max,
                min_spacing=fu.min_spacing,
                respect_decision_date=fu.respect_decision_date,
                after_decision_date=fu.after_decision_date,
                stop_on=frozenset(fu.stop_on),
                snooze_on_auto_reply=fu.snooze_on_auto_reply,
            ),
            rejection_reply=RejectionReplyRule(enabled=rr.enabled, draft_after=rr.draft_after),
            draft_in_working_hours=self.draft_in_working_hours,
            language=self.language,
            source=source,
        )


# -- YAML reading -------------------------------------------------------------------------------


class _PolicyLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and numbers (see the design notes)."""


_PolicyLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


MAX_POLICY_BYTES = 64 * 1024
"""A policy is a few dozen lines (the shipped ones are under 3 KB)."""

MAX_DEPTH = 12
"""Levels of nesting; a policy uses three (follow_up: calendar: working_days: [...])."""

MAX_NODES = 2000
"""YAML values once aliases are expanded; a policy has well under a hundred. An alias bomb
("billion laughs": each level repeating the previous one) expands exponentially, and every
walk over the tree (duplicate keys, validation) would pay for the expansion."""


def _check_shape(path: Path, text: str) -> None:
    """Refuse a file too large, too deep or expanding too far, before building anything.

    The depth is measured on the event stream (PyYAML's parser is iterative, its composer is
    recursive and would hit Python's recursion limit); the expansion on the composed node
    tree, where an alias is the same node object again, so counting visits counts the
    expansion without making it."""
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(
            f"{path}: the file is larger than {MAX_POLICY_BYTES // 1024} KB; a policy is a few "
            "dozen lines",
            advice="Check that this is the policy file you meant. " + _ADVICE,
        )
    depth = 0
    for event in yaml.parse(text, Loader=_PolicyLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                raise PolicyError(
                    f"{path}:{line}: nested deeper than {MAX_DEPTH} levels; a policy needs three",
                    advice=_ADVICE,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expansion(path: Path, node: yaml.Node | None) -> None:
    budget = MAX_NODES
    stack: list[yaml.Node] = [node] if node is not None else []
    while stack:
        current = stack.pop()
        budget -= 1
        if budget < 0:
            raise PolicyError(
                f"{path}: more than {MAX_NODES} values once its aliases (*name) are expanded; "
                "a policy has a few dozen",
                advice="Write the values out instead of repeating aliases. " + _ADVICE,
            )
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack += (key, value)
        elif isinstance(current, yaml.SequenceNode):
            stack += current.value


def _read_yaml(path: Path, text: str) -> tuple[Any, yaml.Node | None, list[tuple[int, str]]]:
    """The document, its node tree (for line numbers) and duplicate-key errors."""
    loader = _PolicyLoader(text)
    try:
        _check_shape(path, text)
        node = loader.get_single_node()
        _check_expansion(path, node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "unreadable YAML"
        if exc.context and exc.problem and exc.context_mark:
            started = exc.context_mark
            problem += (
                f" ({exc.context}, which starts at line {started.line + 1},"
                f" column {started.column + 1})"
            )
        raise PolicyError(
            f"{where}: YAML syntax error: {problem}",
            advice="Check the indentation, brackets and quotes around that line. " + _ADVICE,
        ) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: YAML syntax error: {exc}", advice=_ADVICE) from exc
    finally:
        loader.dispose()
    return data, node, _duplicate_keys(path, node, ())


def _duplicate_keys(
    path: Path, node: yaml.Node | None, loc: tuple[str | int, ...]
) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen:
                    errors.append(
                        (
                            line,
                            f"{path}:{line}: {dotted((*loc, key.value))}: duplicate key (first"
                            f" on line {seen[key.value]}); keep one, YAML would use only the last",
                        )
                    )
                seen.setdefault(key.value, line)
                errors += _duplicate_keys(path, value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            errors += _duplicate_keys(path, item, (*loc, i))
    return errors


def _line_of(node: yaml.Node | None, loc: tuple[str | int, ...]) -> int | None:
    """The line of the deepest node on `loc` that exists in the file (keys point at the key)."""
    line = None
    for part in loc:
        found: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    line, found = key.start_mark.line + 1, value
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            found = node.value[part]
            line = found.start_mark.line + 1
        if found is None:
            break
        node = found
    return line


_TYPE_FIXES: dict[str, str] = {
    **TYPE_FIXES,
    "model_type": "is not a section of keys; write key: value lines indented under it",
    "dict_type": "is not a section of keys; write key: value lines indented under it",
}


def _validate(path: Path, text: str) -> Policy:
    data, node, errors = _read_yaml(path, text)
    if data is None:
        raise PolicyError(
            f"{path}: the file is empty",
            advice="Start from a shipped policy (standard, relaxed, business-days) and change "
            "what you need; " + _ADVICE,
        )
    if not isinstance(data, dict):
        raise PolicyError(
            f"{path}:1: (top level): expected policy keys (name:, thank_you:, ...), got "
            f"{type(data).__name__}",
            advice=_ADVICE,
        )
    model: PolicyModel | None = None
    try:
        model = PolicyModel.model_validate(data)
    except ValidationError as exc:
        for error in meaningful(exc.errors()):
            loc = tuple(error["loc"])
            line = _line_of(node, loc) or 1
            described = describe(error, PolicyModel, _TYPE_FIXES)
            errors.append((line, f"{path}:{line}: {dotted(loc)}: {described}"))
    if errors or model is None:
        errors.sort(key=lambda item: item[0])  # stable: same-line problems keep their order
        count = f"{len(errors)} problems" if len(errors) > 1 else "1 problem"
        raise PolicyError(
            "\n".join(text for _, text in errors), advice=f"Fix the {count} above. {_ADVICE}"
        )
    return model.to_policy(default_name=path.stem, source=str(path))


# -- loading ------------------------------------------------------------------------------------


def _policies_dir() -> Path:
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "policies", package.parent / "policies"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return package.parent / "policies"


def shipped_policies() -> list[str]:
    """Names `load_policy` accepts without a path."""
    return sorted(p.stem for p in _policies_dir().glob("*.yaml"))


def check_policy_file(path: Path) -> Policy:
    """Read and validate one policy file; raise `PolicyError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"{path}: no such policy file",
            advice=f"Give a path to a .yaml file or a shipped policy: "
            f"{', '.join(shipped_policies())}.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc}", advice=_ADVICE) from exc
    return _validate(path, text)


def load_policy(ref: str, *, base_dir: Path | None = None) -> Policy:
    """A shipped policy by name ("standard"), or a .yaml file (relative to `base_dir`)."""
    looks_like_path = ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref
    if not looks_like_path:
        if ref in shipped_policies():
            return check_policy_file(_policies_dir() / f"{ref}.yaml")
        raise PolicyError(
            f"no shipped policy named {show(ref)}{did_you_mean(ref, shipped_policies())}",
            advice=f"Use one of {', '.join(shipped_policies())}, or a path to a .yaml file.",
        )
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return check_policy_file(path)
