"""The printable notice pages: every kind in Chinese and English, who may open them, and read receipts."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.services.documents import notices
from tests.e2e.flows import (
    ACCEPT,
    APPROVE,
    CORRECT,
    FOOD,
    FOOD_APPLY,
    GRANT,
    ISSUE,
    PASS,
    apply,
    complete,
    correct,
    food_to_review,
)

from .documents_helpers import one, page, sign_in, who

pytestmark = pytest.mark.usefixtures("demo")

CATALOGUE = Path(__file__).resolve().parents[2] / "app/translations/documents/zh/LC_MESSAGES/messages.po"
with CATALOGUE.open("rb") as _po:
    PLAIN_MSGIDS = [m.id for m in read_po(_po) if m.id and "%(" not in m.id]


def full_case(api) -> str:
    """A food licence through one correction round to a pickup: receipt, correction, acceptance, pickup."""
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", {"preview_result": "correct", "deficiencies": [
        {"material": "食品经营许可申请书", "requirement": "请补充法定代表人签字"},
        {"material": "食品安全管理人员证明", "requirement": "请提交培训考核合格证明"}]})
    correct(api, case_no)
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    return case_no


def refused_case(api) -> str:
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", {"preview_result": "refuse",
                                                        "refusal_reason": "不属于本机关职权范围"})
    return case_no


def decided_case(api) -> str:
    case_no = food_to_review(api)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", {"decision": "refuse", "decision_reason": "经营场所不符合要求",
                                                       "remedy_informed": True})
    return case_no


def text_of(resp) -> str:
    return re.sub(r"\s+", " ", resp.get_data(as_text=True))


def assert_translated(html: str) -> None:
    """No message of this area shows untranslated on a Chinese page."""
    left = [m for m in PLAIN_MSGIDS if f">{m}<" in html or f"> {m} <" in html or f'"{m}"' in html]
    assert left == []


EXPECTED = {  # kind: (zh title, en title, what the zh page must show, what the en page must show)
    "receipt": ("收件回执", "Receipt of application",
                ["收取材料清单", "食品经营许可申请书", "必须提交", "2026年11月30日前", "承诺时限", "10个工作日"],
                ["Materials received", "Must be submitted", "30 November 2026", "10 working days"]),
    "correction": ("补正告知书", "Correction notice",
                   ["第三十二条", "一次性告知", "请补充法定代表人签字", "食品安全管理人员证明", "请提交培训考核合格证明",
                    "经办人：王芳（工号：SJ0101）", "本件为该办件第1次补正告知"],
                   ["Article 32(1)(4)", "请补充法定代表人签字", "Handled by: 王芳 (staff no. SJ0101)"]),
    "acceptance": ("受理通知书", "Acceptance notice",
                   ["受理日期", "2026年11月23日", "承诺办结日期", "2026年12月7日", "法定时限", "20个工作日"],
                   ["Accepted on", "23 November 2026", "Promised completion date", "7 December 2026"]),
    "pickup": ("领证回执", "Licence pickup receipt",
               ["证照编号", "JY14201020260001", "2026年11月30日", "领取人（签字）", "食品经营许可证"],
               ["Licence number", "JY14201020260001", "30 November 2026", "Received by (signature):"]),
}


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_each_kind_renders_in_both_languages(app, api, ctx, kind):
    notice = one(ctx, full_case(api), kind)
    zh_title, en_title, zh_parts, en_parts = EXPECTED[kind]
    client = sign_in(app.test_client(), "company")
    zh = page(client, notice.id)
    assert zh.status_code == 200
    html = text_of(zh)
    assert f'<h1 id="doc-title">{zh_title}</h1>' in html
    assert f"<title>{zh_title} {notice.number}" in html
    assert notice.number in html and "编号：" in html
    assert 'class="document document-' in html and "data-print" in html and "打印" in html
    assert "市市场监督管理局" in html and "（印章）" in html
    assert "css/documents.css" in html
    for part in zh_parts:
        assert part in html, part
    assert_translated(html)

    en = text_of(page(client, notice.id, "en"))
    assert f'<h1 id="doc-title">{en_title}</h1>' in en
    assert f'<p class="doc-original" lang="zh-CN">{zh_title}</p>' in en
    assert "Print" in en and "Number:" in en and "(Official seal)" in en
    for part in en_parts:
        assert part in en, part


def test_refusal_and_decision_pages(app, api, ctx):
    refusal = one(ctx, refused_case(api), "refusal")
    decision = one(ctx, decided_case(api), "decision")
    client = sign_in(app.test_client(), "company")
    zh = text_of(page(client, refusal.id))
    assert "<h1 id=\"doc-title\">不予受理通知书</h1>" in zh and "不属于本机关职权范围" in zh
    assert "决定不予受理" in zh and "六十日内依法申请行政复议" in zh and "提起行政诉讼" in zh
    assert_translated(zh)
    en = text_of(page(client, refusal.id, "en"))
    assert "Notice of refusal to accept" in en and "administrative reconsideration" in en and "不属于本机关职权范围" in en

    zh = text_of(page(client, decision.id))
    assert "<h1 id=\"doc-title\">行政许可决定书</h1>" in zh and "（不予许可）" in zh and "经营场所不符合要求" in zh
    assert "第三十八条第二款" in zh and "收到本决定书之日起六十日内" in zh
    assert_translated(zh)
    en = text_of(page(client, decision.id, "en"))
    assert "Administrative licensing decision" in en and "(Licence refused)" in en and "Article 38(2)" in en


def test_reasons_and_requirements_are_escaped(app, api, ctx):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", {"preview_result": "correct", "deficiencies": [
        {"material": "食品经营许可申请书", "requirement": "<script>alert(1)</script>请签字"}]})
    notice = one(ctx, case_no, "correction")
    html = page(sign_in(app.test_client(), "company"), notice.id).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;请签字" in html


@pytest.mark.parametrize(("user", "status"), [
    ("company", 200),           # the applicant of the case
    ("citizen", 404),           # another applicant
    ("builder", 404),
    ("market_approver", 200),   # staff of the item's department, not involved in the case yet
    ("market_clerk", 200),      # staff who issued it
    ("supervisor", 200),
    ("fire_approver", 404),     # staff of an unrelated department
    ("housing_clerk", 404),
])
def test_who_may_open_a_notice(app, api, ctx, user, status):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    notice = one(ctx, case_no, "correction")
    client = sign_in(app.test_client(), user)
    for lang in ("zh", "en"):
        resp = page(client, notice.id, lang)
        assert resp.status_code == status
        if status == 404:
            assert "请补充法定代表人签字" not in resp.get_data(as_text=True)
    assert one(ctx, case_no, "correction").read_at is None or user == "company"


def test_unknown_notice_is_404_and_anonymous_is_sent_to_sign_in(app, api, ctx):
    notice = one(ctx, apply(api, FOOD, FOOD_APPLY)["case_no"], "receipt")
    anonymous = app.test_client()
    resp = anonymous.get(f"/documents/{notice.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert one(ctx, notice.case_no, "receipt").read_at is None
    client = sign_in(app.test_client(), "admin")
    assert client.get(f"/documents/{notice.id + 1000}").status_code == 404
    assert client.get("/documents/abc").status_code == 404


def test_opening_marks_read_only_for_the_applicant(app, api, ctx, clock):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", CORRECT)
    notice = one(ctx, case_no, "correction")
    for user in ("market_clerk", "supervisor", "admin", "citizen"):
        page(sign_in(app.test_client(), user), notice.id)
    assert one(ctx, case_no, "correction").read_at is None

    clock.advance(timedelta(hours=2))
    opened_at = clock.now()
    page(sign_in(app.test_client(), "company"), notice.id)
    assert one(ctx, case_no, "correction").read_at == opened_at.replace(tzinfo=None) or \
        one(ctx, case_no, "correction").read_at == opened_at
    clock.advance(timedelta(hours=1))
    page(sign_in(app.test_client(), "company"), notice.id, "en")
    first = one(ctx, case_no, "correction").read_at
    assert first is not None and first.replace(tzinfo=None) == opened_at.replace(tzinfo=None)  # the first opening
    assert one(ctx, case_no, "receipt").read_at is None  # only the notice opened


def test_mark_read_service_rules(api, ctx):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    receipt = one(ctx, case_no, "receipt")
    assert notices.mark_read(ctx, who(ctx, "market_head"), receipt.id).read_at is None
    with pytest.raises(notices.NoticeNotFound):
        notices.mark_read(ctx, who(ctx, "citizen"), receipt.id)
    with pytest.raises(notices.NoticeNotFound):
        notices.get_notice(ctx, who(ctx, "fire_approver"), receipt.id)
    assert notices.mark_read(ctx, who(ctx, "company"), receipt.id).read_at is not None
    assert notices.get_notice(ctx, who(ctx, "company"), receipt.id).read_at is not None


def test_for_case_checks_who_asks(api, ctx):
    from app.errors import CaseNotFound

    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    assert [n.kind for n in notices.for_case(ctx, who(ctx, "company"), case_no)] == ["receipt"]
    assert [n.kind for n in notices.for_case(ctx, who(ctx, "market_clerk2"), case_no)] == ["receipt"]
    for outsider in ("citizen", "planning_approver"):
        with pytest.raises(CaseNotFound):
            notices.for_case(ctx, who(ctx, outsider), case_no)
    with pytest.raises(CaseNotFound):
        notices.for_case(ctx, who(ctx, "admin"), "SPJY20261123999999")
