"""Form `pattern` checks run with a time limit (the `regex` package's timeout): a value that would take
exponential time is a field error, not a hung worker; patterns that do not compile are still refused.
Dynamic lists are capped at MAX_ROWS rows, whatever the form says."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.errors import InvalidForm
from app.forms import FormDefinition, FormDefinitionError, parse_form
from app.forms.fields import MAX_ROWS

TIMED_OUT = "格式校验超时，请检查输入是否正确 / checking the format took too long; please check the value"


def text_form(pattern: str) -> FormDefinition:
    return parse_form({"type": "default", "id": "F", "components": [
        {"type": "textfield", "key": "code", "id": "Field_code", "validate": {"pattern": pattern}}]}, key="p.form")


def errors(form: FormDefinition, data: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(InvalidForm) as info:
        form.validate(data)
    return dict(info.value.field_errors)


@pytest.mark.parametrize(("pattern", "value"), [(r"(a|aa)+$", "a" * 60 + "b"), (r"(?:1|11)+2", "1" * 60)])
def test_a_value_that_takes_too_long_to_match_is_a_field_error(pattern: str, value: str) -> None:
    form = text_form(pattern)  # no longer refused by a guess at its shape
    started = time.perf_counter()
    assert errors(form, {"code": value}) == {"code": [TIMED_OUT]}
    assert time.perf_counter() - started < 1.0


def test_patterns_match_the_whole_value() -> None:
    form = text_form(r"\d{17}[\dX]")
    assert form.validate({"code": "11010519491231002X"}) == {"code": "11010519491231002X"}
    assert errors(form, {"code": "11010519491231002X1"}) == {"code": ["格式不正确 / does not match the required format"]}


@pytest.mark.parametrize("pattern", ["([a-z", "a{2,1}", "*a"])
def test_patterns_that_do_not_compile_are_refused(pattern: str) -> None:
    with pytest.raises(FormDefinitionError, match="invalid regular expression"):
        text_form(pattern)


def rows_form(**validate: Any) -> FormDefinition:
    return parse_form({"type": "default", "id": "F", "components": [
        {"type": "dynamiclist", "id": "Rows", "path": "rows", "isRepeating": True, "validate": validate,
         "components": [{"type": "textfield", "key": "name", "id": "Field_name"}]}]}, key="rows.form")


def test_a_dynamic_list_has_at_most_max_rows_rows() -> None:
    assert MAX_ROWS == 200
    started = time.perf_counter()
    assert errors(rows_form(), {"rows": [{"name": "x"}] * 9999}) == {"rows": ["最多 200 行 / at most 200 rows"]}
    assert time.perf_counter() - started < 0.5
    assert len(rows_form().validate({"rows": [{"name": "x"}] * 200})["rows"]) == 200


def test_a_form_cannot_raise_the_cap_and_pages_offer_no_row_beyond_it() -> None:
    form = rows_form(max=5000)
    [rows] = form.fields
    assert rows.rules.max == MAX_ROWS  # what the page reads to stop offering rows
    assert errors(form, {"rows": [{}] * 201}) == {"rows": ["最多 200 行 / at most 200 rows"]}
    with pytest.raises(FormDefinitionError, match="more than the 200 rows"):
        rows_form(min=201)
