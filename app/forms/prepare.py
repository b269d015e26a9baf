"""The steps before marshmallow sees submitted data: defaults, server-side values, hidden fields.

`fill` builds a fresh dict holding every field of the form (so unknown keys are gone and the
caller's data is never mutated); `apply_hide` then removes hidden fields in document order, as
form-js does, so a later condition sees an earlier hidden field as absent.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from app.forms.fields import MAX_ROWS
from app.forms.model import FormField, FormGroup, FormNode, iter_fields

ABSENT: Any = object()

# form-js's empty value per component type; anything not listed is None.
_EMPTY: dict[str, Any] = {"textfield": "", "textarea": "", "checkbox": False}
_EMPTY_LIST_TYPES = {"checklist", "taglist", "dynamiclist"}


def get_path(data: Any, path: Sequence[str]) -> Any:
    """The value at a dotted path, or ABSENT."""
    for part in path:
        if not isinstance(data, Mapping) or part not in data:
            return ABSENT
        data = data[part]
    return data


def _set_path(target: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _drop_path(target: dict[str, Any], path: Sequence[str]) -> None:
    """Delete the value, then any parent dicts that became empty (a fully hidden path group)."""
    parents = []
    for part in path[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            return
        parents.append((target, part))
        target = child
    target.pop(path[-1], None)
    for parent, part in reversed(parents):
        if parent[part]:
            break
        del parent[part]


def empty_value(field: FormField) -> Any:
    """What form-js submits for an untouched field of this type."""
    return [] if field.type in _EMPTY_LIST_TYPES else _EMPTY.get(field.type)


def _initial(field: FormField, submitted: Mapping[str, Any], server: Mapping[str, Any]) -> Any:
    # Readonly and disabled values are the server's: a client could otherwise overwrite them.
    value = get_path(server if field.ignores_input else submitted, field.path)
    if value is ABSENT:
        return copy.deepcopy(field.default) if field.has_default else empty_value(field)
    return value


def fill(
    nodes: tuple[FormNode, ...], submitted: Mapping[str, Any], server: Mapping[str, Any]
) -> dict[str, Any]:
    """Every field of a container (form or row) with its submitted, server, default or empty value."""
    out: dict[str, Any] = {}
    for field in iter_fields(nodes):
        value = _initial(field, submitted, server)
        if field.type == "dynamiclist" and isinstance(value, list) and len(value) <= MAX_ROWS:
            server_rows = get_path(server, field.path)
            server_rows = server_rows if isinstance(server_rows, list) else []
            value = [
                fill(field.children, row, _row(server_rows, index)) if isinstance(row, Mapping) else row
                for index, row in enumerate(value)
            ]
        _set_path(out, field.path, value)
    return out


def _row(rows: list[Any], index: int) -> Mapping[str, Any]:
    row = rows[index] if index < len(rows) else None
    return row if isinstance(row, Mapping) else {}


def apply_hide(
    nodes: tuple[FormNode, ...], container: dict[str, Any], scopes: list[Mapping[str, Any]]
) -> None:
    """Remove the values of hidden components from `container` (scopes: innermost data first)."""
    for node in nodes:
        if node.hide is not None and node.hide.is_true(scopes):
            hidden = iter_fields(node.children) if isinstance(node, FormGroup) else (node,)
            for field in hidden:
                _drop_path(container, field.path)
        elif isinstance(node, FormGroup):
            # A group with a path is the local context (form-js `this`) for its children's conditions.
            local = get_path(container, node.path) if node.path else ABSENT
            apply_hide(node.children, container, [local, *scopes] if isinstance(local, Mapping) else scopes)
        elif node.type == "dynamiclist":
            rows = get_path(container, node.path)
            if isinstance(rows, list) and len(rows) <= MAX_ROWS:
                for row in rows:
                    if isinstance(row, dict):
                        apply_hide(node.children, row, [row, *scopes])
