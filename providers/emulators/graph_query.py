"""The OData pieces of a Graph request that the emulator understands, parsed apart from any
mailbox: `Prefer` headers, `$select`, `$expand=singleValueExtendedProperties($filter=...)`,
the two `$filter` forms Outlook supports here (`receivedDateTime ge|gt <ISO>` and
`singleValueExtendedProperties/Any(ep: ep/id eq '...' and ep/value eq '...')`), and extended
property ids ("String {GUID} Name X"), whose type and GUID compare case-insensitively and whose
name does not (https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from providers.emulators.graph_errors import bad_request, invalid_filter, unknown_property
from providers.emulators.graph_time import parse_iso

_PROP_TYPES = {
    name.lower(): name
    for name in (
        "Binary",
        "Boolean",
        "Currency",
        "CLSID",
        "Double",
        "Float",
        "Integer",
        "Long",
        "Short",
        "String",
        "SystemTime",
    )
}
_NAMED = re.compile(r"^(\w+)\s+\{([0-9a-fA-F-]{36})\}\s+(Name|Id)\s+(.+)$", re.IGNORECASE)
_TAGGED = re.compile(r"^(\w+)\s+(0x[0-9a-fA-F]{1,4})$", re.IGNORECASE)
_QUOTED = r"'((?:[^']|'')*)'"
_RECEIVED = re.compile(r"^\s*receivedDateTime\s+(ge|gt)\s+(\S+)\s*$", re.IGNORECASE)
_ANY = re.compile(
    r"^\s*singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+"
    + _QUOTED
    + r"\s+and\s+\1/value\s+eq\s+"
    + _QUOTED
    + r"\s*\)\s*$",
    re.IGNORECASE,
)
_EXPAND = re.compile(r"^\s*singleValueExtendedProperties(?:\(\s*\$filter=(.*)\))?\s*$", re.I)
_ID_EQ = re.compile(r"^\s*id\s+eq\s+" + _QUOTED + r"\s*$", re.IGNORECASE)


def parse_prefer(values: list[str]) -> dict[str, str]:
    """`Prefer` preferences by lower-cased name, values unquoted: `odata.maxpagesize=50,
    outlook.body-content-type="text"` -> {"odata.maxpagesize": "50", ...}."""
    found: dict[str, str] = {}
    for value in values:
        for item in re.findall(r'(?:[^,"]|"[^"]*")+', value):
            name, _, setting = item.strip().partition("=")
            if name:
                found[name.strip().lower()] = setting.strip().strip('"')
    return found


def prop_id(text: str) -> str:
    """The canonical form of an extended property id; 400 when it is not one."""
    named = _NAMED.match(text.strip())
    if named:
        kind, guid, form, name = named.groups()
        canonical = _PROP_TYPES.get(kind.lower())
        if canonical is not None:
            return f"{canonical} {{{guid.lower()}}} {form.capitalize()} {name.strip()}"
    tagged = _TAGGED.match(text.strip())
    if tagged and tagged.group(1).lower() in _PROP_TYPES:
        return f"{_PROP_TYPES[tagged.group(1).lower()]} {tagged.group(2).lower()}"
    raise bad_request(f"The extended property id '{text}' is not valid.", "ErrorInvalidProperty")


def parse_select(value: str | None, allowed: frozenset[str], entity: str) -> tuple[str, ...] | None:
    """The properties `$select` names (Graph matches names case-insensitively); None: no
    $select. 400 for a property the resource does not have."""
    if value is None:
        return None
    by_lower = {name.lower(): name for name in allowed}
    names: list[str] = []
    for raw in value.split(","):
        name = raw.strip()
        if not name:
            continue
        canonical = by_lower.get(name.lower())
        if canonical is None:
            raise unknown_property(name, entity)
        names.append(canonical)
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class Expand:
    """`$expand=singleValueExtendedProperties(...)`: the ids to show; None: every one."""

    ids: tuple[str, ...] | None


def parse_expand(value: str | None) -> Expand | None:
    if value is None:
        return None
    matched = _EXPAND.match(value)
    if matched is None:
        name = value.split("(", 1)[0].strip()
        raise bad_request(
            f"Expanding '{name}' is not supported by this emulator; only "
            "singleValueExtendedProperties($filter=id eq '...')."
        )
    if matched.group(1) is None:
        return Expand(None)
    ids = []
    for clause in re.split(r"\s+or\s+", matched.group(1), flags=re.IGNORECASE):
        one = _ID_EQ.match(clause)
        if one is None:
            raise invalid_filter()
        ids.append(prop_id(one.group(1).replace("''", "'")))
    return Expand(tuple(ids))


@dataclass(frozen=True, slots=True)
class ReceivedSince:
    """`receivedDateTime ge|gt <moment>`."""

    moment: datetime
    inclusive: bool

    def admits(self, received: datetime) -> bool:
        return received >= self.moment if self.inclusive else received > self.moment


@dataclass(frozen=True, slots=True)
class TaggedWith:
    """`singleValueExtendedProperties/Any(ep: ep/id eq '<id>' and ep/value eq '<value>')`."""

    prop: str
    value: str

    def admits(self, properties: dict[str, str]) -> bool:
        held = properties.get(self.prop)
        return held is not None and held.casefold() == self.value.casefold()


Filter = ReceivedSince | TaggedWith


def parse_filter(value: str | None, *, tagged: bool) -> Filter | None:
    """The $filter forms the emulator serves; `tagged` allows the extended-property one (not
    on delta, which only filters by receivedDateTime). 400 for any other filter."""
    if value is None:
        return None
    received = _RECEIVED.match(value)
    if received:
        try:
            moment = parse_iso(received.group(2))
        except ValueError:
            raise invalid_filter() from None
        return ReceivedSince(moment, received.group(1).lower() == "ge")
    any_match = _ANY.match(value)
    if any_match and tagged:
        return TaggedWith(
            prop_id(any_match.group(2).replace("''", "'")), any_match.group(3).replace("''", "'")
        )
    raise invalid_filter()


def parse_positive(value: str | None, name: str, *, maximum: int) -> int | None:
    """`$top` and `odata.maxpagesize`: a positive integer, capped at `maximum`."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise bad_request(f"Invalid value '{value}' for {name}.") from None
    if number < 1:
        raise bad_request(f"Invalid value '{value}' for {name}.")
    return min(number, maximum)
