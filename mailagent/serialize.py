"""JSON for the frozen domain values, driven by their type hints (store rows, `--json`)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_plain(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        items = [to_plain(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    return value


def dumps(value: object) -> str:
    return json.dumps(to_plain(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str, cls: type[T]) -> T:
    value: T = from_plain(json.loads(text), cls)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_plain(data: Any, cls: Any) -> Any:
    origin = typing.get_origin(cls)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(cls) if a is not type(None)]
        if data is None:
            return None
        return from_plain(data, args[0])
    if dataclasses.is_dataclass(cls):
        hints = _hints(cls)  # type: ignore[arg-type]
        kwargs = {
            f.name: from_plain(data[f.name], hints[f.name])
            for f in dataclasses.fields(cls)
            if f.name in data
        }
        return cls(**kwargs)  # type: ignore[operator]
    if origin is tuple:
        item_type = typing.get_args(cls)[0]
        return tuple(from_plain(v, item_type) for v in data)
    if origin in (frozenset, set):
        (arg,) = typing.get_args(cls)
        return frozenset(from_plain(v, arg) for v in data)
    if origin in (Mapping, dict) or cls is Mapping:
        return dict(data)
    if isinstance(cls, type) and issubclass(cls, Enum):
        return cls(data)
    if cls is datetime:
        return datetime.fromisoformat(data)
    if cls is date:
        return date.fromisoformat(data)
    return data
