"""Reading an HTML form post back as the nested data `FormDefinition.validate` expects, and
telling a re-render (add or remove a row, Enter) from a submit."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

from app.forms import FormDefinition, FormField
from app.forms.fields import MAX_ROWS

ROW_MARK = "_row"  # hidden input per dynamiclist row, so rows of unticked checkboxes still count


ACTIONS = ("_add_row", "_remove_row", "_refresh")  # buttons that re-render instead of submitting


_ROW_NAME = re.compile(r"^(\d+)-(.+)$")


def parse_submission(form: FormDefinition, formdata: MultiDict[str, str], keep_empty_rows: bool = False
                     ) -> dict[str, Any]:
    """`request.form` as nested data for `form.validate()`: checkboxes as booleans, multi-selects as
    lists, dynamiclist rows as lists of dicts (rows left entirely empty are dropped unless
    `keep_empty_rows`). Fields not on the page are absent, so the validator applies their defaults.
    """
    return _parse_fields(list(form.fields), formdata, "", keep_empty_rows)


def _parse_fields(specs: list[FormField], formdata: MultiDict[str, str], prefix: str, keep: bool
                  ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        name = prefix + spec.key
        if spec.type == "dynamiclist":
            value: Any = _parse_rows(spec, formdata, name + "-", keep)
        elif spec.type == "checkbox":
            value = formdata.get(name, "").lower() in ("true", "on", "1")
        elif spec.type in ("checklist", "taglist"):
            value = [v for v in formdata.getlist(name) if v != ""]
        elif name in formdata:
            value = formdata.get(name, "")
        else:
            continue
        target = out
        parts = spec.key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def _parse_rows(spec: FormField, formdata: MultiDict[str, str], prefix: str, keep: bool) -> list[dict[str, Any]]:
    indexes: set[int] = set()
    over = False
    for name in formdata:
        if name.startswith(prefix):
            match = _ROW_NAME.match(name[len(prefix):])
            if match and len(match.group(1)) <= 4:
                index = int(match.group(1))
                over = over or index >= MAX_ROWS
                if index < MAX_ROWS:  # rows past the cap are not read: one stands for them all
                    indexes.add(index)
    rows = []
    for i in sorted(indexes):
        row_prefix = f"{prefix}{i}-"
        if not keep and _row_empty(formdata, row_prefix):
            continue
        rows.append(_parse_fields(list(spec.row_fields()), formdata, row_prefix, keep))
    return [*rows, {}] if over else rows  # one row too many: validation says "at most N rows"


def _row_empty(formdata: MultiDict[str, str], row_prefix: str) -> bool:
    return all(not v.strip() for name in formdata if name.startswith(row_prefix)
               and not name.endswith("-" + ROW_MARK) for v in formdata.getlist(name))


def rerender_values(form: FormDefinition, formdata: MultiDict[str, str]) -> dict[str, Any] | None:
    """If the post was an "add row", "remove row" or Enter-key refresh rather than a real submit, the
    values to show again; None for a real submit.

    The page always shows one spare empty row per list: "add row" keeps the empty rows as they were,
    so the page comes back with one more; "remove row" drops that row and the empty ones.
    """
    if not any(a in formdata for a in ACTIONS):
        return None
    if formdata.get("_add_row"):
        return parse_submission(form, formdata, keep_empty_rows=True)
    remove = re.match(r"^(.+)-(\d+)$", formdata.get("_remove_row", ""))
    if not remove:
        return parse_submission(form, formdata)
    values = parse_submission(form, formdata, keep_empty_rows=True)
    rows = _rows_at(values, remove.group(1))
    if rows is not None:
        if int(remove.group(2)) < len(rows):
            del rows[int(remove.group(2))]
        rows[:] = [r for r in rows if not _blank(r)]
    return values


def _blank(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_blank(v) for v in value.values())
    if isinstance(value, list):
        return all(_blank(v) for v in value)
    return value in (None, "", False)


def _rows_at(values: dict[str, Any], key: str) -> list[Any] | None:
    target: Any = values
    for part in key.split("."):
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target if isinstance(target, list) else None
