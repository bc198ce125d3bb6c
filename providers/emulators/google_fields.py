"""Partial responses, Google's `fields` parameter: `select_fields` keeps of a JSON answer the
parts that a spec such as `items(id,summary),nextPageToken` or `messages/id` names."""

from __future__ import annotations

from typing import Any

FieldTree = dict[str, "FieldTree | None"]


def parse_fields(spec: str) -> FieldTree:
    """`items(id,summary),nextPageToken` or `messages/id` -> a tree; None below a name: all."""
    tree, _ = _fields_list(spec.replace(" ", ""), 0)
    return tree


def _fields_list(spec: str, pos: int) -> tuple[FieldTree, int]:
    tree: FieldTree = {}
    while pos < len(spec) and spec[pos] != ")":
        if spec[pos] == ",":
            pos += 1
            continue
        name, sub, pos = _fields_item(spec, pos)
        previous = tree.get(name)
        if name in tree and previous is not None and sub is not None:
            previous.update(sub)
        else:
            tree[name] = None if name in tree and previous is None else sub
    return tree, pos


def _fields_item(spec: str, pos: int) -> tuple[str, FieldTree | None, int]:
    start = pos
    while pos < len(spec) and spec[pos] not in ",()/":
        pos += 1
    name = spec[start:pos]
    if pos < len(spec) and spec[pos] == "/":
        child, sub, pos = _fields_item(spec, pos + 1)
        return name, {child: sub}, pos
    if pos < len(spec) and spec[pos] == "(":
        sub_tree, pos = _fields_list(spec, pos + 1)
        return name, sub_tree, pos + 1
    return name, None, pos


def select_fields(value: Any, spec: str | FieldTree | None) -> Any:
    tree = parse_fields(spec) if isinstance(spec, str) else spec
    if tree is None:
        return value
    if isinstance(value, list):
        return [select_fields(v, tree) for v in value]
    if isinstance(value, dict):
        if "*" in tree:
            return value
        return {k: select_fields(value[k], sub) for k, sub in tree.items() if k in value}
    return value
