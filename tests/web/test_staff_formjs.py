"""The form-js renderer shared by the staff and portal pages: every component the reference forms use,
labels for every field, values and errors back in place, HTML posts parsed into form data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from app.errors import InvalidForm
from app.forms import parse_form
from app.web.formjs import answers, form_view, localized, outcome_buttons, parse_submission, rerender_values

FORMS = Path(__file__).resolve().parents[2] / "forms"
OUTCOMES = {"preview.form": "preview_result", "acceptance.form": "accept_result", "review.form": "review_result",
            "dept-approval.form": "approval_result", "decision.form": "decision",
            "instant-handling.form": "instant_result", "extension_approval.form": "extension_decision",
            "licence-lifecycle-handling.form": "handling_result",
            # 差评整改 (rating_rectification.bpmn); its callback form records an outcome, not a decision
            "rectification-classify.form": "classification", "rectification-review.form": "review_result",
            "rectification-rectify.form": "rectify_result", "rectification-appeal.form": "appeal_result",
            "rectification-feedback.form": "feedback_result"}

KITCHEN_SINK = {
    "type": "default", "id": "Form_sink", "components": [
        {"type": "text", "id": "t", "text": "## 标题\n第一段 **重点** <script>alert(1)</script>\n- 甲\n- 乙"},
        {"type": "group", "id": "g", "label": "地址", "path": "address", "components": [
            {"type": "textfield", "id": "city", "key": "city", "label": "城市", "validate": {"required": True}},
            {"type": "number", "id": "zip", "key": "floor", "label": "楼层", "validate": {"min": 1}},
        ]},
        {"type": "checkbox", "id": "agree", "key": "agree", "label": "同意"},
        {"type": "checklist", "id": "tags", "key": "tags", "label": "标签",
         "values": [{"label": "甲", "value": "a"}, {"label": "乙", "value": "b"}]},
        {"type": "taglist", "id": "langs", "key": "langs", "label": "语言",
         "values": [{"label": "中文", "value": "zh"}, {"label": "英文", "value": "en"}]},
        {"type": "select", "id": "pick", "key": "pick", "label": "选择", "valuesKey": "choices"},
        {"type": "datetime", "id": "day", "key": "day", "subtype": "date", "dateLabel": "日期"},
        {"type": "radio", "id": "kind", "key": "kind", "label": "类型",
         "values": [{"label": "个人", "value": "person"}, {"label": "单位", "value": "company"}]},
        {"type": "textfield", "id": "org", "key": "org", "label": "单位名称",
         "conditional": {"hide": "=kind != \"company\""}},
        {"type": "dynamiclist", "id": "items", "path": "items", "label": "清单", "allowAddRemove": True,
         "components": [
             {"type": "textfield", "id": "name", "key": "name", "label": "名称", "validate": {"required": True}},
             {"type": "checkbox", "id": "ok", "key": "ok", "label": "合格"}]},
        {"type": "button", "id": "b", "label": "提交", "action": "submit"},
    ]}


@pytest.fixture
def app(bare_app):
    """Rendering needs an app, not a database: these tests run once, not once per database."""
    return bare_app


@pytest.fixture
def sink():
    return parse_form(KITCHEN_SINK, "sink.form")


def render(view, **kwargs):
    return render_template_string('{% from "forms/formjs.html" import render_form %}{{ render_form(view, **kw) }}',
                                  view=view, kw=kwargs)


def labelled(html):
    """Every input, select and textarea (except hidden and buttons) has a <label for> with its id."""
    ids = re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    return [i for i in ids if i not in labels]


def test_every_component_renders_with_labels_values_and_errors(app, sink):
    values = {"address": {"city": "武汉", "floor": 3}, "agree": True, "tags": ["b"], "langs": ["zh", "en"],
              "pick": "x2", "day": "2026-11-23", "kind": "company", "org": "某公司",
              "items": [{"name": "第一件", "ok": True}]}
    errors = {"address.city": ["必填 / required"], "items.0.name": ["长度不能少于 2 / at least 2 characters"]}
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        html = render(form_view(sink, values, errors, {"choices": [{"label": "一", "value": "x1"}, "x2"]}))
    assert labelled(html) == []
    assert "<h3 class=\"form-heading\">标题</h3>" in html and "<strong>重点</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<ul><li>甲</li><li>乙</li></ul>" in html
    assert 'name="address.city" id="f-address-city" value="武汉"' in html  # group path: dotted names
    assert 'name="address.floor" id="f-address-floor" value="3"' in html
    assert 'name="agree" value="true" id="f-agree" checked' in html
    assert 'name="tags" value="b"\n           id="f-tags-2" checked' in html
    assert '<option value="zh" selected>中文</option><option value="en" selected>英文</option>' in html
    assert '<option value="x1">一</option><option value="x2" selected>x2</option>' in html  # valuesKey
    assert '<input type="date" name="day" id="f-day" value="2026-11-23"' in html
    assert 'data-hide="=kind != &#34;company&#34;"' in html and "data-outcome-dependent" not in html
    assert 'name="items-0-name" id="f-items-0-name" value="第一件"' in html
    assert 'name="items-1-name"' in html  # the spare row to fill in
    assert '<p class="field-error" id="f-address-city-error"><span>必填</span></p>' in html
    assert '<p class="field-error" id="f-items-0-name-error"><span>长度不能少于 2</span></p>' in html
    assert '<a href="#f-address-city">城市</a>：必填' in html  # the summary links to the field
    assert '<span class="req" aria-hidden="true"> *</span>' in html and 'aria-required="true"' in html


def test_posts_become_form_data_that_validates(app, sink):
    posted = MultiDict([
        ("address.city", "武汉"), ("address.floor", "12"), ("agree", "true"), ("tags", "a"), ("tags", "b"),
        ("langs", "en"), ("pick", "x1"), ("day", "2026-11-23"), ("kind", "person"), ("org", "不该保留"),
        ("items-0-_row", "1"), ("items-0-name", "甲件"), ("items-0-ok", "true"),
        ("items-1-_row", "1"), ("items-1-name", ""),  # the spare row, left empty
        ("items-2-_row", "1"), ("items-2-name", "丙件"), ("csrf_token", "x"), ("_submit", "1")])
    data = parse_submission(sink, posted)
    assert data == {"address": {"city": "武汉", "floor": "12"}, "agree": True, "tags": ["a", "b"], "langs": ["en"],
                    "pick": "x1", "day": "2026-11-23", "kind": "person", "org": "不该保留",
                    "items": [{"name": "甲件", "ok": True}, {"name": "丙件", "ok": False}]}
    clean = sink.validate(data, {"choices": ["x1"]})
    assert clean["address"] == {"city": "武汉", "floor": 12} and "org" not in clean  # hidden: dropped
    # an unticked checkbox is false, an absent list is empty
    assert parse_submission(sink, MultiDict())["agree"] is False
    assert parse_submission(sink, MultiDict())["items"] == []


def test_add_and_remove_rows_without_javascript(app, sink):
    posted = [("items-0-_row", "1"), ("items-0-name", "甲件"), ("items-1-_row", "1"), ("items-1-name", "")]
    assert rerender_values(sink, MultiDict(posted)) is None  # a real submit
    added = rerender_values(sink, MultiDict([*posted, ("_add_row", "items")]))
    assert added is not None and added["items"] == [{"name": "甲件", "ok": False}, {"name": "", "ok": False}]
    with app.test_request_context():
        assert render(form_view(sink, added)).count('class="dl-row"') == 3  # one more than the two shown
    removed = rerender_values(sink, MultiDict([*posted, ("_remove_row", "items-0")]))
    assert removed is not None and removed["items"] == []
    refreshed = rerender_values(sink, MultiDict([*posted, ("_refresh", "1")]))
    assert refreshed is not None and refreshed["items"] == [{"name": "甲件", "ok": False}]


@pytest.mark.parametrize("name", sorted(p.name for p in FORMS.glob("*.form")))
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_reference_form_renders_accessibly(app, name, lang):
    form = parse_form((FORMS / name).read_text(encoding="utf-8"), name)
    with app.test_request_context(headers={"Accept-Language": lang}):
        view = form_view(form, {}, None, {"material_names": ["申请书"]})
        html = render(view, submit_label="提交")
    assert labelled(html) == []
    if name in OUTCOMES:
        assert [o.key for o in view.outcomes] == [OUTCOMES[name]] * len(view.outcomes) and len(view.outcomes) >= 2
        assert f'type="radio" name="{OUTCOMES[name]}"' not in html
        assert f'<button type="submit" name="{OUTCOMES[name]}"' in html
    else:
        assert view.outcomes == [] and 'name="_submit" value="1" class="primary">提交' in html


def test_outcome_fields_are_marked_and_nothing_else_changed():
    for name, key in OUTCOMES.items():
        raw = json.loads((FORMS / name).read_text(encoding="utf-8"))
        marked = [c["key"] for c in raw["components"] if c.get("properties", {}).get("outcome") == "true"]
        assert marked == [key], name
    form = parse_form((FORMS / "preview.form").read_text(encoding="utf-8"), "preview.form")
    assert [(o.value, o.label, o.style) for o in outcome_buttons(form)] == [
        ("pass", "材料齐全", "primary"), ("correct", "需补正", ""), ("refuse", "不予受理", "danger")]
    with pytest.raises(InvalidForm):
        form.validate({"preview_result": "maybe"}, {})


def test_answers_summarise_what_was_submitted(app):
    form = parse_form((FORMS / "food-licence-apply.form").read_text(encoding="utf-8"), "food.form")
    with app.test_request_context():
        shown = dict(answers(form_view(form, {"business_name": "老街坊", "main_format": "catering",
                                              "business_categories": ["hot_food", "drinks"], "online_sales": True})))
    assert shown == {"经营者名称": "老街坊", "主体业态": "餐饮服务经营者", "经营项目": "热食类食品制售、自制饮品制售",
                     "通过网络经营": "是"}


def test_bilingual_messages_follow_the_language(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert localized("必填 / required") == "必填"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert localized("必填 / required") == "required"
        assert localized("plain") == "plain"
