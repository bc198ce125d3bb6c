"""Pydantic's validation errors told to a person: where (``accounts[0].timezone``), what is
wrong in plain words, and for an unknown key or a wrong choice the nearest right one.

Shared by the policy files (YAML) and the config file (TOML), so that both speak alike. Pure:
error dicts and model classes in, text out.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, get_args

from pydantic import BaseModel
from pydantic_core import ErrorDetails, PydanticCustomError

__all__ = ["describe", "did_you_mean", "dotted", "meaningful", "problem", "show"]

Loc = tuple[str | int, ...]

PROBLEM = "mailagent"
"""The error type of `problem`: its text is shown as it is, without pydantic's prefix."""


def problem(reason: str) -> PydanticCustomError:
    """An error a validator raises with its whole message in words. The text travels in the
    context, so that braces in user input are not taken for a format string."""
    return PydanticCustomError(PROBLEM, "{reason}", {"reason": reason})


def show(value: Any) -> str:
    """A value as the user wrote it: text in double quotes, null for None."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    return str(value)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean "X"?)' for the choice nearest `word`, or "" for none near enough."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def dotted(loc: Loc) -> str:
    """``follow_up.after[1]``: the place of a value, as the user would look for it."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds: itself, or inside `X | None`, `tuple[X, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model whose keys are valid at `loc` (list indices step into the items)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue  # an item of a list of models: the same model
        info = model.model_fields.get(part)
        model = _model_in(info.annotation) if info is not None else None
    return model


def meaningful(errors: Sequence[ErrorDetails]) -> list[ErrorDetails]:
    """The errors worth showing: a list found too short only because its items failed (pydantic
    counts the items that passed) says nothing the items' own errors do not."""
    return [
        error
        for error in errors
        if not (
            error["type"] == "too_short"
            and any(
                len(other["loc"]) > len(error["loc"])
                and tuple(other["loc"][: len(error["loc"])]) == tuple(error["loc"])
                for other in errors
            )
        )
    ]


TYPE_FIXES: Mapping[str, str] = {
    "bool_type": "is not true or false; write true or false",
    "bool_parsing": "is not true or false; write true or false",
    "int_type": "is not a whole number; write one like 2",
    "int_parsing": "is not a whole number; write one like 2",
    "int_from_float": "is not a whole number; write one like 2",
    "string_type": 'is not text; write text, in quotes if unsure, like "..."',
    "tuple_type": "is not a list; write one like [a, b]",
    "list_type": "is not a list; write one like [a, b]",
}
"""Wrong types in words; each file format adds how to write a section of keys."""


def describe(error: ErrorDetails, root: type[BaseModel], fixes: Mapping[str, str]) -> str:
    """One error in words, for the file whose top-level model is `root`; `fixes` maps
    pydantic's type errors to advice in the file's own syntax."""
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    context = error.get("ctx") or {}
    if kind == PROBLEM:
        return str(context["reason"])
    if kind == "value_error":  # a validator's ValueError: its text, without "Value error, "
        return str(context.get("error", error["msg"]))
    if kind == "extra_forbidden":
        model = model_at(root, loc[:-1])
        fields = model.model_fields.items() if model else ()
        allowed = sorted(name for name, info in fields if not info.exclude)  # not set by files
        return (
            f"unknown key{did_you_mean(str(loc[-1]), allowed)}; allowed here: {', '.join(allowed)}"
        )
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(context.get("expected", "")))
        return (
            f"{show(value)} is not one of {context.get('expected', '')}"
            f"{did_you_mean(str(value), choices)}"
        )
    if kind in fixes:
        return f"{show(value)} {fixes[kind]}"
    if kind == "missing":
        return "is required; add it"
    return str(error["msg"])
