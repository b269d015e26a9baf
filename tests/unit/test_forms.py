"""Unit tests for app.forms: parsing form-js forms and validating submissions (no database)."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.errors import InvalidForm
from app.forms import (
    FormDefinition,
    FormDefinitionError,
    FormRegistry,
    form_from_camunda_fields,
    normalize_form_key,
    parse_form,
)

# -- helpers ---------------------------------------------------------------------------------------


def make_form(*components: dict[str, Any], key: str = "test.form") -> FormDefinition:
    return parse_form({"type": "default", "id": "TestForm", "components": list(components)}, key=key)


def field(kind: str, key: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "key": key, "id": f"Field_{key}", **props}


def errors_of(form: FormDefinition, data: Any, context: dict[str, Any] | None = None) -> dict[str, list[str]]:
    with pytest.raises(InvalidForm) as info:
        form.validate(data, context)
    return info.value.field_errors


OPTIONS = [{"label": "甲", "value": "a"}, {"label": "乙", "value": "b"}]


# -- text ------------------------------------------------------------------------------------------


def test_textfield_valid_and_optional_empty() -> None:
    form = make_form(field("textfield", "name"), field("textarea", "note"))
    assert form.validate({"name": "张三", "note": "多行\n文本"}) == {"name": "张三", "note": "多行\n文本"}
    assert form.validate({}) == {"name": "", "note": ""}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_text_rejects_empty(value: Any) -> None:
    form = make_form(field("textfield", "name", validate={"required": True}))
    assert errors_of(form, {"name": value}) == {"name": ["必填 / required"]}
    assert errors_of(form, {}) == {"name": ["必填 / required"]}


def test_text_lengths() -> None:
    form = make_form(field("textfield", "code", validate={"minLength": 2, "maxLength": 4}))
    assert form.validate({"code": "abcd"}) == {"code": "abcd"}
    assert errors_of(form, {"code": "a"}) == {"code": ["长度不能少于 2 / at least 2 characters"]}
    assert errors_of(form, {"code": "abcde"}) == {"code": ["长度不能超过 4 / at most 4 characters"]}


def test_text_rejects_non_strings() -> None:
    form = make_form(field("textfield", "name"))
    assert errors_of(form, {"name": 12}) == {"name": ["必须是文本 / must be text"]}
    assert errors_of(form, {"name": {"x": 1}}) == {"name": ["必须是文本 / must be text"]}
    assert errors_of(form, {"name": []}) == {"name": ["必须是文本 / must be text"]}


def test_text_without_max_length_has_a_hard_cap() -> None:
    form = make_form(field("textarea", "note"))
    assert "note" in errors_of(form, {"note": "x" * 100_001})


def test_pattern_must_match_the_whole_value() -> None:
    form = make_form(field("textfield", "id_no", validate={"pattern": r"\d{17}[\dX]"}))
    assert form.validate({"id_no": "11010519491231002X"}) == {"id_no": "11010519491231002X"}
    assert errors_of(form, {"id_no": "11010519491231002Xabc"}) == {
        "id_no": ["格式不正确 / does not match the required format"]
    }


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("email", "li.si@example.gov.cn", "li.si@localhost"),
        ("email", "a+b@x.cn", "a b@x.cn"),
        ("phone", "13812345678", "call me"),
        ("phone", "+86 10 6512-3456", "12"),
    ],
)
def test_validation_type(kind: str, good: str, bad: str) -> None:
    form = make_form(field("textfield", "contact", validate={"validationType": kind}))
    assert form.validate({"contact": good}) == {"contact": good}
    assert list(errors_of(form, {"contact": bad})) == ["contact"]


# -- regular expressions from untrusted forms ---------------------------------------------------------


def test_pattern_longer_than_500_is_rejected() -> None:
    with pytest.raises(FormDefinitionError, match="longer than 500"):
        make_form(field("textfield", "x", validate={"pattern": "a" * 501}))


def test_invalid_pattern_is_a_definition_error() -> None:
    with pytest.raises(FormDefinitionError, match=r"test\.form.*Field_x.*invalid regular expression"):
        make_form(field("textfield", "x", validate={"pattern": "([a-z"}))


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:[\w-]++\.)+[a-z]{2,}",
        r"(?>a+)+b",
        r"(\d{3}-)+\d{4}",
        r"[a-z]+\d*",
        r"(?:\d|-)+",
        r"(?:\w|\.)+@x",
        r"(?:ab|cd)*",
        r"(a|ab)",
        r"1[3-9]\d{9}",
        r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$",
        r"(?:[\w-]+\.)+cn",
        r"\d+(?:,\d+)*",
        r"\d*-\d*-\d*",
        r"[a-z]+\d+[a-z]+\d+",
        r"[\u4e00-\u9fa5]+\w*",
    ],
)
def test_safe_patterns_are_accepted(pattern: str) -> None:
    make_form(field("textfield", "x", validate={"pattern": pattern}))


def test_long_input_is_not_regex_matched() -> None:
    form = make_form(field("textfield", "x", validate={"pattern": r"[a-z]*"}))
    started = time.perf_counter()
    assert errors_of(form, {"x": "a" * 5000}) == {
        "x": ["内容过长，无法校验格式 / too long to check the format (at most 1000 characters)"]
    }
    assert time.perf_counter() - started < 0.5


# -- number ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), (2.5, 2.5), ("7", 7), (" 1.25 ", 1.25), ("-4", -4), (None, None), ("", None)],
)
def test_number_accepts_numbers_and_numeric_strings(value: Any, expected: Any) -> None:
    form = make_form(field("number", "amount"))
    assert form.validate({"amount": value}) == {"amount": expected}


@pytest.mark.parametrize("value", [True, "abc", "1e5", "1.2.3", [1], float("nan"), float("inf"), "9" * 41])
def test_number_rejects_non_numbers(value: Any) -> None:
    form = make_form(field("number", "amount"))
    assert errors_of(form, {"amount": value}) == {"amount": ["必须是数字 / must be a number"]}


def test_number_rules() -> None:
    form = make_form(field("number", "n", validate={"min": 1, "max": 10.5}, decimalDigits=1, increment="0.5"))
    assert form.validate({"n": "10.5"}) == {"n": 10.5}
    assert errors_of(form, {"n": 0}) == {"n": ["不能小于 1 / must be at least 1"]}
    assert errors_of(form, {"n": 11}) == {"n": ["不能大于 10.5 / must be at most 10.5"]}
    assert errors_of(form, {"n": "1.25"}) == {
        "n": ["最多 1 位小数 / at most 1 decimal places", "必须是 0.5 的整数倍 / must be a multiple of 0.5"]
    }


def test_required_number_and_serialize_to_string() -> None:
    form = make_form(field("number", "n", validate={"required": True}, serializeToString=True))
    assert form.validate({"n": "0012.50"}) == {"n": "12.5"}
    assert form.validate({"n": 0}) == {"n": "0"}
    assert errors_of(form, {"n": None}) == {"n": ["必填 / required"]}


def test_integer_number_field_returns_int() -> None:
    form = make_form(field("number", "count", decimalDigits=0))
    assert form.validate({"count": "3.0"}) == {"count": 3}
    assert form.validate({"count": 4.0}) == {"count": 4}


# -- checkbox, options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), ("true", True), ("false", False), (None, False)]
)
def test_checkbox(value: Any, expected: bool) -> None:
    form = make_form(field("checkbox", "agree"))
    assert form.validate({"agree": value}) == {"agree": expected}
    assert form.validate({}) == {"agree": False}


def test_checkbox_rejects_other_values_and_required_means_ticked() -> None:
    assert errors_of(make_form(field("checkbox", "agree")), {"agree": "yes"}) == {
        "agree": ["必须是“是”或“否” / must be true or false"]
    }
    form = make_form(field("checkbox", "agree", validate={"required": True}))
    assert form.validate({"agree": True}) == {"agree": True}
    assert errors_of(form, {"agree": False}) == {"agree": ["必须勾选 / must be checked"]}


@pytest.mark.parametrize("kind", ["radio", "select"])
def test_single_choice(kind: str) -> None:
    form = make_form(field(kind, "kind", values=OPTIONS, validate={"required": True}))
    assert form.validate({"kind": "b"}) == {"kind": "b"}
    assert errors_of(form, {"kind": "c"}) == {"kind": ["不是允许的选项 / not an allowed value: 'c'"]}
    assert errors_of(form, {"kind": ["a"]}) == {"kind": ["不是允许的选项 / not an allowed value: <list>"]}
    assert errors_of(form, {}) == {"kind": ["必填 / required"]}


def test_choice_matches_numeric_option_values() -> None:
    form = make_form(
        field("select", "level", values=[{"label": "一级", "value": 1}, {"label": "二级", "value": 2}])
    )
    assert form.validate({"level": "2"}) == {"level": 2}
    assert form.validate({"level": None}) == {"level": None}


@pytest.mark.parametrize("kind", ["checklist", "taglist"])
def test_multiple_choice(kind: str) -> None:
    form = make_form(field(kind, "tags", values=OPTIONS))
    assert form.validate({"tags": ["b", "a", "b"]}) == {"tags": ["b", "a"]}
    assert form.validate({}) == {"tags": []}
    assert errors_of(form, {"tags": ["a", "x"]}) == {"tags": ["不是允许的选项 / not an allowed value: 'x'"]}
    assert errors_of(form, {"tags": "a"}) == {"tags": ["必须是列表 / must be a list"]}


def test_required_checklist_needs_an_entry() -> None:
    form = make_form(field("checklist", "tags", values=OPTIONS, validate={"required": True}))
    assert errors_of(form, {"tags": []}) == {"tags": ["必填 / required"]}


def test_values_key_takes_options_from_context() -> None:
    form = make_form(
        field("select", "office", valuesKey="offices"), field("checklist", "docs", valuesKey="lists.docs")
    )
    context = {
        "offices": ["东城", "西城"],
        "lists": {"docs": [{"label": "身份证", "value": "id"}, {"label": "户口本", "value": "hukou"}]},
    }
    assert form.validate({"office": "西城", "docs": ["hukou"]}, context) == {
        "office": "西城",
        "docs": ["hukou"],
    }
    assert errors_of(form, {"office": "海淀", "docs": ["id"]}, context) == {
        "office": ["不是允许的选项 / not an allowed value: '海淀'"]
    }


def test_values_key_without_context_rejects_any_value() -> None:
    form = make_form(field("select", "office", valuesKey="offices"))
    assert errors_of(form, {"office": "东城"}) == {"office": ["没有可选的选项 / no options are available"]}
    assert form.validate({}) == {"office": None}  # optional and empty: nothing to check


def test_values_expression_with_a_plain_variable_acts_like_values_key() -> None:
    form = make_form(field("radio", "office", valuesExpression="=offices"))
    assert form.validate({"office": "东城"}, {"offices": ["东城"]}) == {"office": "东城"}
    with pytest.raises(FormDefinitionError, match="unsupported valuesExpression"):
        make_form(field("radio", "office", valuesExpression="=filter(offices, item.open)"))


def test_option_component_needs_a_source_of_values() -> None:
    with pytest.raises(FormDefinitionError, match="needs 'values'"):
        make_form(field("select", "office"))


# -- datetime --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtype", "good", "bad", "message"),
    [
        ("date", "2024-02-29", "2023-02-29", "日期格式应为 YYYY-MM-DD / not a valid date (YYYY-MM-DD)"),
        ("date", "2024-01-01", "20240101", "日期格式应为 YYYY-MM-DD / not a valid date (YYYY-MM-DD)"),
        (
            "datetime",
            "2024-01-01T09:30",
            "2024-01-01",
            "日期时间格式不正确 / not a valid ISO 8601 date and time",
        ),
        (
            "datetime",
            "2024-01-01T09:30:00+08:00",
            "2024-01-01T25:00",
            "日期时间格式不正确 / not a valid ISO 8601 date and time",
        ),
        ("time", "09:30", "9.30", "时间格式应为 HH:MM / not a valid time (HH:MM)"),
    ],
)
def test_datetime_subtypes(subtype: str, good: str, bad: str, message: str) -> None:
    form = make_form(field("datetime", "when", subtype=subtype))
    assert form.validate({"when": good}) == {"when": good}
    assert errors_of(form, {"when": bad}) == {"when": [message]}
    assert errors_of(form, {"when": 20240101}) == {"when": [message]}


def test_datetime_disallow_passed_dates() -> None:
    form = make_form(field("datetime", "due", subtype="date", disallowPassedDates=True))
    today = date.today()
    assert form.validate({"due": today.isoformat()}) == {"due": today.isoformat()}
    yesterday = (today - timedelta(days=1)).isoformat()
    assert errors_of(form, {"due": yesterday}) == {"due": ["不能早于今天 / must not be in the past"]}


# -- layout components, groups, unknown keys -----------------------------------------------------------


def test_display_components_carry_no_data_and_unknown_keys_are_dropped() -> None:
    form = make_form(
        {"type": "text", "text": "# 说明"},
        {"type": "separator"},
        {"type": "image", "source": "x.png"},
        {"type": "button", "action": "submit", "key": "submit"},
        field("textfield", "name"),
    )
    assert form.validate({"name": "x", "submit": True, "hacker": "drop table"}) == {"name": "x"}
    assert form.field_keys() == {"name"}


def test_group_without_path_is_flat_and_with_path_nests() -> None:
    form = make_form(
        {"type": "group", "id": "g1", "components": [field("textfield", "name")]},
        {
            "type": "group",
            "id": "g2",
            "path": "applicant.address",
            "components": [field("textfield", "city"), field("textfield", "street.no")],
        },
    )
    data = {"name": "x", "applicant": {"address": {"city": "北京", "street": {"no": "1"}}}}
    assert form.validate(data) == data
    assert form.field_keys() == {"name", "applicant.address.city", "applicant.address.street.no"}


def test_nested_errors_use_dotted_keys() -> None:
    form = make_form(
        {
            "type": "group",
            "path": "address",
            "components": [field("textfield", "city", validate={"required": True})],
        }
    )
    assert errors_of(form, {"address": {"city": ""}}) == {"address.city": ["必填 / required"]}
    assert errors_of(form, {"address": "北京"}) == {"address.city": ["必填 / required"]}


def test_data_must_be_an_object() -> None:
    form = make_form(field("textfield", "name"))
    assert errors_of(form, ["name"]) == {"_form": ["表单数据必须是对象 / form data must be an object"]}


# -- dynamiclist -----------------------------------------------------------------------------------


def deficiency_form(**validate: Any) -> FormDefinition:
    return make_form(
        {
            "type": "dynamiclist",
            "id": "Deficiencies",
            "path": "deficiencies",
            "isRepeating": True,
            "validate": validate,
            "components": [
                field("textfield", "material", validate={"required": True}),
                field("number", "copies", defaultValue=1),
            ],
        }
    )


def test_dynamiclist_rows_are_validated_and_cleaned() -> None:
    form = deficiency_form()
    data = {"deficiencies": [{"material": "身份证", "extra": 1}, {"material": "户口本", "copies": "2"}]}
    assert form.validate(data) == {
        "deficiencies": [{"material": "身份证", "copies": 1}, {"material": "户口本", "copies": 2}]
    }
    assert form.validate({}) == {"deficiencies": []}


def test_dynamiclist_row_errors() -> None:
    form = deficiency_form()
    data = {"deficiencies": [{"material": "身份证"}, {"material": "", "copies": "x"}, "not a row"]}
    assert errors_of(form, data) == {
        "deficiencies.1.material": ["必填 / required"],
        "deficiencies.1.copies": ["必须是数字 / must be a number"],
        "deficiencies.2": ["必须是对象 / must be an object"],
    }
    assert errors_of(form, {"deficiencies": {"material": "x"}}) == {
        "deficiencies": ["必须是列表 / must be a list"]
    }


def test_dynamiclist_row_count() -> None:
    form = deficiency_form(min=1, max=2)
    row = {"material": "x"}
    assert errors_of(form, {"deficiencies": []}) == {"deficiencies": ["至少需要 1 行 / at least 1 rows"]}
    assert errors_of(form, {"deficiencies": [row] * 3}) == {"deficiencies": ["最多 2 行 / at most 2 rows"]}
    assert len(form.validate({"deficiencies": [row, row]})["deficiencies"]) == 2
    assert errors_of(deficiency_form(required=True), {}) == {"deficiencies": ["必填 / required"]}


def test_dynamiclist_has_a_hard_row_limit() -> None:
    assert errors_of(deficiency_form(), {"deficiencies": [{}] * 201}) == {
        "deficiencies": ["最多 200 行 / at most 200 rows"]
    }


# -- defaults, readonly, disabled -----------------------------------------------------------------------


def test_default_applies_only_when_key_is_absent() -> None:
    form = make_form(
        field("textfield", "city", defaultValue="北京"),
        field("checklist", "docs", values=OPTIONS, defaultValue=["a"]),
    )
    assert form.validate({}) == {"city": "北京", "docs": ["a"]}
    assert form.validate({"city": "上海", "docs": []}) == {"city": "上海", "docs": []}
    form.validate({})["docs"].append("b")  # the output must not share lists with the form
    assert form.validate({}) == {"city": "北京", "docs": ["a"]}


def test_readonly_and_disabled_values_come_from_context_or_default() -> None:
    form = make_form(
        field("textfield", "case_no", readonly=True),
        field("number", "fee", disabled=True, defaultValue=0),
        {"type": "group", "path": "applicant", "components": [field("textfield", "name", readonly=True)]},
    )
    context = {"case_no": "BJ-2024-1", "applicant": {"name": "张三"}}
    submitted = {"case_no": "forged", "fee": 999, "applicant": {"name": "李四"}}
    assert form.validate(submitted, context) == {
        "case_no": "BJ-2024-1",
        "fee": 0,
        "applicant": {"name": "张三"},
    }
    assert form.validate(submitted) == {"case_no": "", "fee": 0, "applicant": {"name": ""}}


def test_readonly_row_field_comes_from_the_context_row() -> None:
    form = make_form(
        {
            "type": "dynamiclist",
            "path": "items",
            "components": [field("textfield", "material", readonly=True), field("textfield", "note")],
        }
    )
    context = {"items": [{"material": "身份证"}]}
    submitted = {"items": [{"material": "forged", "note": "已补"}, {"material": "extra", "note": "x"}]}
    assert form.validate(submitted, context) == {
        "items": [{"material": "身份证", "note": "已补"}, {"material": "", "note": "x"}]
    }


def test_readonly_expression_is_refused() -> None:
    with pytest.raises(FormDefinitionError, match="'readonly' must be true or false"):
        make_form(field("textfield", "x", readonly="=locked"))


# -- conditional hide -----------------------------------------------------------------------------------


def test_hidden_required_field_is_not_demanded_and_its_value_is_dropped() -> None:
    form = make_form(
        field(
            "radio",
            "applicant_type",
            values=[{"label": "个人", "value": "person"}, {"label": "企业", "value": "company"}],
        ),
        field(
            "textfield",
            "company_name",
            validate={"required": True},
            conditional={"hide": '=applicant_type != "company"'},
        ),
    )
    assert form.validate({"applicant_type": "person", "company_name": "ACME"}) == {"applicant_type": "person"}
    assert form.validate({"applicant_type": "company", "company_name": "ACME"}) == {
        "applicant_type": "company",
        "company_name": "ACME",
    }
    assert errors_of(form, {"applicant_type": "company"}) == {"company_name": ["必填 / required"]}


@pytest.mark.parametrize(
    ("expression", "data", "hidden"),
    [
        ('=kind = "a"', {"kind": "a"}, True),
        ('= kind  =  "a" ', {"kind": "b"}, False),
        ('=kind != "a"', {"kind": "b"}, True),
        ("=flag = true", {"flag": True}, True),
        ("=flag = false", {"flag": True}, False),
        ("=flag", {"flag": True}, True),
        ("=flag", {"flag": False}, False),
        ("=not(flag)", {"flag": False}, True),
        ("=not(flag)", {"flag": True}, False),
        ("=not(kind)", {"kind": "a"}, False),  # not(non-boolean) is null in FEEL: not hidden
        ("=count = 3", {"count": "3"}, True),
        ("=count = 3.5", {"count": 3.5}, True),
        ("=count = -1", {"count": 2}, False),
        ("=kind = null", {"kind": ""}, True),
        ('=flag and kind = "a"', {"flag": True, "kind": "a"}, True),
        ('=flag and kind = "a"', {"flag": True, "kind": "b"}, False),
        ('=flag or kind = "a"', {"flag": False, "kind": "a"}, True),
        ('=not(flag) or (kind = "a" and count = 3)', {"flag": True, "kind": "a", "count": 3}, True),
        ('=kind = "say \\"hi\\""', {"kind": 'say "hi"'}, True),
    ],
)
def test_supported_feel(expression: str, data: dict[str, Any], hidden: bool) -> None:
    form = make_form(
        field("textfield", "kind"),
        field("checkbox", "flag"),
        field("number", "count"),
        field("textfield", "secret", conditional={"hide": expression}),
    )
    result = form.validate({**data, "secret": "s"})
    assert ("secret" not in result) is hidden


@pytest.mark.parametrize(
    "expression",
    [
        '=kind > "a"',
        "=count >= 3",
        "=kind = other",
        '="a" = kind',
        'kind = "a"',
        "=",
        '=kind = "a" and',
        '=contains(kind, "a")',
        "=if flag then true else false",
        "=flag; import os",
        '=kind = "unterminated',
        "=" + "(" * 30 + "flag" + ")" * 30,
    ],
)
def test_unsupported_feel_is_a_definition_error(expression: str) -> None:
    with pytest.raises(FormDefinitionError, match=r"test\.form: component 'Field_secret'.*unsupported FEEL"):
        make_form(field("textfield", "kind"), field("textfield", "secret", conditional={"hide": expression}))


def test_conditions_on_display_components_are_checked_too() -> None:
    with pytest.raises(FormDefinitionError, match="unsupported FEEL"):
        make_form({"type": "text", "id": "Intro", "text": "x", "conditional": {"hide": "=a > 1"}})


def test_hidden_group_drops_all_children() -> None:
    form = make_form(
        field("checkbox", "has_agent"),
        {
            "type": "group",
            "path": "agent",
            "conditional": {"hide": "=not(has_agent)"},
            "components": [field("textfield", "name", validate={"required": True})],
        },
    )
    assert form.validate({"has_agent": False, "agent": {"name": "x"}}) == {"has_agent": False}
    assert errors_of(form, {"has_agent": True}) == {"agent.name": ["必填 / required"]}


def test_conditions_in_rows_and_path_groups_see_local_values_first() -> None:
    form = make_form(
        field("textfield", "kind"),
        {
            "type": "dynamiclist",
            "path": "rows",
            "components": [
                field("checkbox", "kind"),  # shadows the top-level "kind" inside a row
                field("textfield", "detail", validate={"required": True}, conditional={"hide": "=not(kind)"}),
            ],
        },
    )
    data = {"kind": "x", "rows": [{"kind": True, "detail": "d"}, {"kind": False, "detail": "dropped"}]}
    assert form.validate(data)["rows"] == [{"kind": True, "detail": "d"}, {"kind": False}]
    assert errors_of(form, {"rows": [{"kind": True}]}) == {"rows.0.detail": ["必填 / required"]}


def test_condition_may_refer_to_context_and_to_defaults() -> None:
    form = make_form(
        field("textfield", "mode", defaultValue="simple"),
        field("textfield", "a", conditional={"hide": '=mode = "simple"'}),
        field("textfield", "b", conditional={"hide": '=channel = "online"'}),
    )
    assert form.validate({"a": "1", "b": "2"}, {"channel": "online"}) == {"mode": "simple"}


def test_a_field_hidden_earlier_is_absent_for_later_conditions() -> None:
    form = make_form(
        field("checkbox", "show_b"),
        field("checkbox", "b", conditional={"hide": "=not(show_b)"}),
        field("textfield", "c", conditional={"hide": "=b = null"}),
    )
    assert form.validate({"show_b": False, "b": True, "c": "x"}) == {"show_b": False}
    assert form.validate({"show_b": True, "b": True, "c": "x"}) == {"show_b": True, "b": True, "c": "x"}


# -- form parsing errors ---------------------------------------------------------------------------


def test_bad_json_names_the_file() -> None:
    with pytest.raises(FormDefinitionError, match=r"^broken\.form: invalid JSON at line 1 column"):
        parse_form('{"components": [', key="broken.form")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[]", "a form must be a JSON object"),
        ('{"components": {}}', "a form needs a 'components' list"),
        ('{"type": "textfield", "components": []}', "not a form-js form"),
        ('{"components": [1]}', "component #0 is not an object"),
        ('{"components": [], "x": NaN}', "invalid JSON"),
    ],
)
def test_malformed_forms(raw: str, message: str) -> None:
    with pytest.raises(FormDefinitionError, match=message):
        parse_form(raw, key="bad.form")


def test_unknown_component_type_names_file_and_component() -> None:
    with pytest.raises(FormDefinitionError) as info:
        make_form({"type": "signature", "id": "Field_sig", "key": "sig"})
    assert (
        str(info.value)
        == "test.form: component 'Field_sig' (key 'sig', type 'signature'): unknown component type 'signature'"
    )
    assert info.value.form_key == "test.form"


@pytest.mark.parametrize(
    ("component", "message"),
    [
        ({"type": "textfield", "id": "F"}, "missing 'key'"),
        ({"type": "textfield", "key": "a..b"}, "invalid key"),
        ({"type": "textfield", "key": "a", "validate": []}, "'validate' must be an object"),
        ({"type": "textfield", "key": "a", "validate": {"maxLength": "5"}}, "non-negative integer"),
        ({"type": "textfield", "key": "a", "validate": {"validationType": "url"}}, "unknown validationType"),
        ({"type": "number", "key": "a", "validate": {"min": "x"}}, "'min' must be a number"),
        ({"type": "number", "key": "a", "increment": 0}, "'increment' must be positive"),
        ({"type": "datetime", "key": "a", "subtype": "week"}, "unknown datetime subtype"),
        ({"type": "select", "key": "a", "values": [{"label": "x"}]}, "needs a string or number 'value'"),
        ({"type": "dynamiclist", "key": "a", "components": []}, "missing 'path'"),
        ({"type": "textfield", "key": "a", "conditional": {"hide": 1}}, "must be a FEEL expression string"),
    ],
)
def test_malformed_components(component: dict[str, Any], message: str) -> None:
    with pytest.raises(FormDefinitionError, match=message):
        make_form(component)


def test_duplicate_and_clashing_keys() -> None:
    with pytest.raises(FormDefinitionError, match="duplicate key 'a'"):
        make_form(field("textfield", "a"), field("number", "a"))
    with pytest.raises(FormDefinitionError, match="key 'a' clashes with 'a.b'"):
        make_form(
            field("textfield", "a"), {"type": "group", "path": "a", "components": [field("textfield", "b")]}
        )


def test_deeply_nested_groups_are_refused() -> None:
    component: dict[str, Any] = field("textfield", "x")
    for _ in range(25):
        component = {"type": "group", "components": [component]}
    with pytest.raises(FormDefinitionError, match="nested more than"):
        make_form(component)


def test_parse_form_does_not_keep_the_callers_dict() -> None:
    raw = {"components": [field("textfield", "a")]}
    form = parse_form(raw)
    raw["components"].clear()
    assert form.raw["components"] and form.id == "<inline>"


# -- form keys and the registry -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("preview.form", "preview.form"),
        ("camunda-forms:deployment:preview.form", "preview.form"),
        (" 补正.form ", "补正.form"),
    ],
)
def test_normalize_form_key(key: str, name: str) -> None:
    assert normalize_form_key(key) == name


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../secret.form",
        "..",
        "a/b.form",
        "a\\b.form",
        "/etc/passwd",
        "C:\\x.form",
        "camunda-forms:deployment:../x",
        ".env",
        "a\x00.form",
    ],
)
def test_normalize_form_key_rejects_traversal(key: str) -> None:
    with pytest.raises(FormDefinitionError, match="invalid form key"):
        normalize_form_key(key)


def write_form(folder: Path, name: str, *components: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(
        json.dumps({"type": "default", "id": name, "components": list(components)}), encoding="utf-8"
    )
    return path


def test_registry_caches_and_reloads_on_change(tmp_path: Path) -> None:
    path = write_form(tmp_path, "preview.form", field("textfield", "a"))
    registry = FormRegistry(tmp_path)
    first = registry.get("camunda-forms:deployment:preview.form")
    assert registry.get("preview.form") is first
    assert first.field_keys() == {"a"}

    write_form(tmp_path, "preview.form", field("textfield", "a"), field("textfield", "b"))
    stat = path.stat()
    # Move the mtime on by a second: a rewrite within the filesystem's timestamp granularity would not show.
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = registry.get("preview.form")
    assert second is not first and second.field_keys() == {"a", "b"}
    assert registry.get("preview.form") is second


def test_registry_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.form").write_text("{not json", encoding="utf-8")
    (tmp_path / "sub.form").mkdir()
    registry = FormRegistry(str(tmp_path))
    with pytest.raises(FormDefinitionError, match=r"missing\.form: form not found"):
        registry.get("missing.form")
    with pytest.raises(FormDefinitionError, match=r"broken\.form: invalid JSON"):
        registry.get("broken.form")
    with pytest.raises(FormDefinitionError, match="not a file"):
        registry.get("sub.form")
    with pytest.raises(FormDefinitionError, match="invalid form key"):
        registry.get("../broken.form")


def test_registry_exists(tmp_path: Path) -> None:
    write_form(tmp_path, "a.form", field("textfield", "a"))
    registry = FormRegistry(tmp_path)
    assert registry.exists("a.form") and registry.exists("camunda-forms:deployment:a.form")
    assert not registry.exists("b.form")
    assert not registry.exists("../a.form")


def test_registry_reads_utf8_with_bom(tmp_path: Path) -> None:
    text = json.dumps({"components": [field("textfield", "姓名")]}, ensure_ascii=False)
    (tmp_path / "bom.form").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert FormRegistry(tmp_path).get("bom.form").field_keys() == {"姓名"}


def test_registry_is_thread_safe(tmp_path: Path) -> None:
    for index in range(5):
        write_form(tmp_path, f"f{index}.form", field("textfield", f"k{index}"))
    registry = FormRegistry(tmp_path)
    results: list[set[str]] = []

    def worker() -> None:
        for index in range(5):
            results.append(registry.get(f"f{index}.form").field_keys())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 40 and all(len(keys) == 1 for keys in results)


def test_concurrent_validations_keep_their_own_context() -> None:
    form = make_form(field("select", "office", valuesKey="offices"))
    failures: list[str] = []

    def worker(office: str) -> None:
        for _ in range(200):
            if form.validate({"office": office}, {"offices": [office]}) != {"office": office}:
                failures.append(office)

    threads = [threading.Thread(target=worker, args=(f"o{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# -- camunda:formData ------------------------------------------------------------------------------


CAMUNDA_FIELDS: list[dict[str, Any]] = [
    {
        "id": "name",
        "label": "姓名",
        "type": "string",
        "validation": [{"name": "required"}, {"name": "maxlength", "config": "10"}],
    },
    {
        "id": "age",
        "label": "年龄",
        "type": "long",
        "default_value": "18",
        "validation": [{"name": "min", "config": "0"}, {"name": "max", "config": "150"}],
    },
    {"id": "agree", "label": "同意", "type": "boolean", "default_value": "false"},
    {"id": "due", "label": "期限", "type": "date", "default_value": "${today}"},
    {
        "id": "channel",
        "type": "enum",
        "options": [{"id": "online", "name": "网上"}, {"id": "window", "name": "窗口"}],
    },
    {"id": "case_no", "type": "string", "validation": [{"name": "readonly"}]},
]


def test_form_from_camunda_fields_builds_form_js_components() -> None:
    form = form_from_camunda_fields(CAMUNDA_FIELDS)
    assert form["components"][0] == {
        "id": "Field_name",
        "key": "name",
        "type": "textfield",
        "label": "姓名",
        "validate": {"required": True, "maxLength": 10},
    }
    assert form["components"][1]["defaultValue"] == 18 and form["components"][1]["decimalDigits"] == 0
    assert form["components"][1]["validate"] == {"min": 0, "max": 150}
    assert form["components"][2]["defaultValue"] is False
    assert "defaultValue" not in form["components"][3]  # engine expression, not a literal
    assert form["components"][4]["values"] == [
        {"label": "网上", "value": "online"},
        {"label": "窗口", "value": "window"},
    ]
    assert form["components"][5]["readonly"] is True


def test_camunda_form_validates_like_a_form_js_form() -> None:
    form = parse_form(form_from_camunda_fields(CAMUNDA_FIELDS), key="camunda:formData")
    assert form.validate(
        {"name": "张三", "channel": "window", "due": "2030-01-01", "case_no": "x"}, {"case_no": "N1"}
    ) == {
        "name": "张三",
        "age": 18,
        "agree": False,
        "due": "2030-01-01",
        "channel": "window",
        "case_no": "N1",
    }
    assert errors_of(form, {"name": "", "age": "1.5", "channel": "post"}) == {
        "name": ["必填 / required"],
        "age": ["最多 0 位小数 / at most 0 decimal places"],
        "channel": ["不是允许的选项 / not an allowed value: 'post'"],
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"id": "x", "type": "double"}], "unsupported field type 'double'"),
        (
            [{"id": "x", "type": "string", "validation": [{"name": "validator", "config": "x"}]}],
            "unsupported constraint 'validator'",
        ),
        (
            [{"id": "x", "type": "string", "validation": [{"name": "maxlength", "config": "ten"}]}],
            "needs a number",
        ),
        ([{"id": "x", "type": "long", "default_value": "1.5"}], "not a whole number"),
        ([{"id": "x", "type": "boolean", "default_value": "yes"}], "not true or false"),
        ([{"label": "no id", "type": "string"}], "needs an 'id'"),
    ],
)
def test_form_from_camunda_fields_rejects_what_it_cannot_express(
    fields: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(FormDefinitionError, match=message):
        form_from_camunda_fields(fields)


# -- errors and speed --------------------------------------------------------------------------------


def test_invalid_form_error_details() -> None:
    form = make_form(field("textfield", "a", validate={"required": True}), field("number", "b"))
    error = pytest.raises(InvalidForm, form.validate, {"b": "x"}).value
    assert error.status == 422
    assert error.details == [
        {"field": "a", "message": "必填 / required"},
        {"field": "b", "message": "必须是数字 / must be a number"},
    ]


def test_validating_a_ten_field_form_is_fast() -> None:
    form = make_form(
        *[
            field("textfield", f"t{i}", validate={"required": True, "maxLength": 50, "pattern": "[a-z]+"})
            for i in range(4)
        ],
        field("number", "n", validate={"min": 0, "max": 100}),
        field("checkbox", "c"),
        field("select", "s", values=OPTIONS),
        field("datetime", "d", subtype="date"),
        field("checklist", "cl", values=OPTIONS),
        field("textarea", "ta", conditional={"hide": '=c = true and s != "a"'}),
    )
    data = {
        "t0": "a",
        "t1": "b",
        "t2": "c",
        "t3": "d",
        "n": "5",
        "c": True,
        "s": "b",
        "d": "2024-01-01",
        "cl": ["a"],
        "ta": "x",
    }
    form.validate(data)
    runs = 200
    started = time.perf_counter()
    for _ in range(runs):
        form.validate(data)
    assert (time.perf_counter() - started) / runs < 0.001


# -- the project's own forms --------------------------------------------------------------------------

REPO_FORMS = Path(__file__).resolve().parents[2] / "forms"


@pytest.mark.skipif(not REPO_FORMS.is_dir(), reason="no forms/ folder")
def test_every_form_in_the_repository_parses() -> None:
    registry = FormRegistry(REPO_FORMS)
    names = sorted(path.name for path in REPO_FORMS.glob("*.form"))
    for name in names:
        assert registry.get(name).field_keys(), name
