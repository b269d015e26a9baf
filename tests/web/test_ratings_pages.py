"""好差评 pages as people use them: the applicant rates their finished case from the invitation's link; the
tablet at a window shows the latest visit (case number masked, no names) and takes its rating without a
sign-in; receipts printed at a window carry the visit's QR, printed elsewhere none; supervisors list and
filter the ratings; bad input gives a page with a message, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Notice, User
from tests.e2e.flows import FOOD, FOOD_APPLY, apply
from tests.e2e.test_ratings_api import finished_case, seat_clerk
from tests.web.signin import csrf_token, sign_in

pytestmark = pytest.mark.usefixtures("demo")
ZH = {"Accept-Language": "zh-CN"}


def post_rating(client, path, data):
    form = {"csrf_token": csrf_token(client, path, ZH), **data}
    return client.post(path, data=form, headers=ZH)


def test_the_applicant_rates_the_finished_case_from_the_invitation(app, api):
    case_no = finished_case(api)
    client = sign_in(app.test_client(), "company")
    bell = client.get("/notifications", headers=ZH).get_data(as_text=True)
    assert f"/my/cases/{case_no}/rate" in bell and f"请评价办件 {case_no}" in bell
    page = client.get(f"/my/cases/{case_no}/rate", headers=ZH).get_data(as_text=True)
    assert "<legend>整体满意度</legend>" in page and "<legend>平台操作性</legend>" in page and "评价截止日期：2026-11-30" in page

    dims = {"dim-efficiency": "2", "dim-guide_accuracy": "3", "dim-convenience": "2", "dim-usability": "3"}
    refused = post_rating(client, f"/my/cases/{case_no}/rate", {"level": "1", **dims})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "差评须至少选择一项原因" in text and "评价未提交" in text
    saved = post_rating(client, f"/my/cases/{case_no}/rate",
                        {"level": "1", **dims, "reasons": ["materials", "system"], "comment": "系统多次报错"})
    assert saved.status_code == 200
    text = saved.get_data(as_text=True)
    assert "感谢您的评价" in text and "非常不满意" in text and "追加评价（限一次）" in text
    assert sign_in(app.test_client(), "citizen").get(f"/my/cases/{case_no}/rate").status_code == 404


def test_the_tablet_at_the_window_rates_the_latest_visit_without_signing_in(app, api):
    seat_clerk(api, "W01")
    tablet = app.test_client()
    empty = tablet.get("/rate/window/W01", headers=ZH).get_data(as_text=True)
    assert "本窗口暂无待评价的服务" in empty
    assert tablet.get("/rate/window/NOPE", headers=ZH).status_code == 404
    case_no = apply(api, FOOD, FOOD_APPLY, "center_clerk", applicant="citizen")["case_no"]
    clerk = sign_in(app.test_client(), "center_clerk")
    with app.app_context():
        ctx = app.extensions["banjian"]
        with ctx.uow() as uow:
            receipt = uow.session.scalar(select(Notice.id).where(Notice.kind == "receipt"))
            citizen = uow.session.scalar(select(User.full_name).where(User.username == "citizen"))
    printed = clerk.get(f"/documents/{receipt}", headers=ZH).get_data(as_text=True)
    assert 'class="doc-rating-qr"' in printed and "/rate/visit/" in printed
    url = printed.split('class="doc-rating-url">')[1].split("<")[0]
    filed = clerk.get(f"/documents/cases/{case_no}/archive-receipt", headers=ZH).get_data(as_text=True)
    assert f'class="doc-rating-url">{url}<' in filed  # the same visit: one case, one window, one day

    shown = tablet.get("/rate/window/W01", headers=ZH).get_data(as_text=True)
    assert case_no not in shown and case_no[:4] in shown and case_no[-2:] in shown and citizen not in shown
    token = shown.split('name="token" value="')[1].split('"')[0]
    dims = {"dim-efficiency": "5", "dim-competence": "4", "dim-attitude": "5"}
    done = post_rating(tablet, "/rate/window/W01", {"token": token, "level": "5", **dims})
    assert done.status_code == 200 and "感谢您的评价" in done.get_data(as_text=True)
    assert "本窗口暂无待评价的服务" in done.get_data(as_text=True)  # ready for the next visitor
    stale = {"csrf_token": csrf_token(tablet, "/login", ZH), "level": "5", **dims}  # a page left open
    again = tablet.post("/rate/window/W01", data={**stale, "token": token}, headers=ZH)
    assert again.status_code == 409 and "已评价" in again.get_data(as_text=True)
    assert tablet.post("/rate/window/W01", data={**stale, "token": "forged"}, headers=ZH).status_code == 409

    listed = sign_in(app.test_client(), "supervisor").get("/ratings?window=W01", headers=ZH).get_data(as_text=True)
    assert "共 1 条评价" in listed and "非常满意" in listed and "服务态度" in listed


def test_a_receipt_printed_away_from_a_window_has_no_qr(app, api):
    apply(api, FOOD, FOOD_APPLY)
    with app.app_context():
        with app.extensions["banjian"].uow() as uow:
            receipt = uow.session.scalar(select(Notice.id).where(Notice.kind == "receipt"))
    for user in ("company", "market_clerk"):  # the applicant at home; a clerk seated at no window
        page = sign_in(app.test_client(), user).get(f"/documents/{receipt}", headers=ZH).get_data(as_text=True)
        assert "doc-rating-qr" not in page


def test_the_ratings_list_is_for_supervisors_and_reads_bad_filters_as_a_message(app, api):
    assert sign_in(app.test_client(), "company").get("/ratings").status_code == 403
    supervisor = sign_in(app.test_client(), "supervisor")
    page = supervisor.get("/ratings?level=9&from=2026-13-01&grade=x&page=abc", headers=ZH)
    assert page.status_code == 200
    assert "以下筛选条件无法识别，已忽略" in page.get_data(as_text=True)
    bad_visit = app.test_client().get("/rate/visit/not-a-token", headers=ZH)
    assert bad_visit.status_code == 404


def test_the_administrator_sets_the_rules_and_seats_clerks_at_a_window(app, api):
    admin = sign_in(app.test_client(), "admin")
    page = admin.get("/admin/ratings", headers=ZH).get_data(as_text=True)
    assert "评价规则与窗口" in page and "one_time_notice | 一次性告知" in page
    bad = admin.post("/admin/ratings/rules", headers=ZH, data={
        "csrf_token": csrf_token(admin, "/admin/ratings", ZH), "window_days": "0", "reminder_hours": "24",
        "default_level": "", "reasons": "Bad Code | 名称"})
    assert bad.status_code == 422
    assert "请输入 1–30 之间的整数" in bad.get_data(as_text=True) and "代码须为" in bad.get_data(as_text=True)
    assert api.get("/rating-rules").get_json()["window_days"] == 5  # nothing changed
    ok = admin.post("/admin/ratings/rules", headers=ZH, data={
        "csrf_token": csrf_token(admin, "/admin/ratings", ZH), "window_days": "7", "reminder_hours": "48",
        "default_level": "3", "reasons": "attitude | 服务态度 | attitude\nwaiting | 等候时间过长"})
    assert ok.status_code == 302
    assert api.get("/rating-rules").get_json() == {
        "window_days": 7, "reminder_hours": 48, "default_level": 3,
        "reasons": [{"code": "attitude", "zh": "服务态度", "en": "attitude"},
                    {"code": "waiting", "zh": "等候时间过长", "en": "等候时间过长"}]}

    refused = admin.post("/admin/ratings/windows", headers=ZH, data={
        "csrf_token": csrf_token(admin, "/admin/ratings", ZH), "code": "W 1", "name": "", "clerks": "citizen"})
    assert refused.status_code == 422 and "不是在岗的窗口人员：citizen" in refused.get_data(as_text=True)
    saved = admin.post("/admin/ratings/windows", headers=ZH, data={
        "csrf_token": csrf_token(admin, "/admin/ratings", ZH), "code": "W02", "name": "出件窗口",
        "department": "service_center", "clerks": "center_clerk，market_clerk", "active": "on"})
    assert saved.status_code == 302
    listed = admin.get("/admin/ratings", headers=ZH).get_data(as_text=True)
    assert "出件窗口" in listed and "center_clerk, market_clerk" in listed and "/rate/window/W02" in listed
    assert sign_in(app.test_client(), "supervisor").get("/admin/ratings").status_code == 403


def test_a_clerk_records_a_consultation_visit_and_shows_its_qr(app, api):
    clerk = sign_in(app.test_client(), "center_clerk")
    assert "您尚未被安排到服务窗口" in clerk.get("/staff/window", headers=ZH).get_data(as_text=True)
    seat_clerk(api, "W01")
    page = clerk.get("/staff/window", headers=ZH).get_data(as_text=True)
    assert "综合受理3号窗口" in page and "/rate/window/W01" in page and "doc-rating-qr" not in page
    shown = clerk.post("/staff/window", headers=ZH, data={"csrf_token": csrf_token(clerk, "/staff/window", ZH)})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "doc-rating-qr" in text
    url = text.split('class="doc-rating-url">')[1].split("<")[0]
    visitor = app.test_client().get(url.replace("http://localhost", ""), headers=ZH).get_data(as_text=True)
    assert "评价本次服务" in visitor and "综合受理3号窗口" in visitor and "提交评价" in visitor
    assert sign_in(app.test_client(), "company").get("/staff/window").status_code == 403


def test_the_finished_case_page_offers_the_rating_and_then_shows_it(app, api):
    case_no = finished_case(api)
    client = sign_in(app.test_client(), "company")
    page = client.get(f"/my/cases/{case_no}", headers=ZH).get_data(as_text=True)
    assert "评价本次服务" in page and f'href="/my/cases/{case_no}/rate"' in page and "去评价" in page
    post_rating(client, f"/my/cases/{case_no}/rate", {"level": "5", "dim-efficiency": "5", "dim-guide_accuracy": "5",
                                                      "dim-convenience": "5", "dim-usability": "5"})
    page = client.get(f"/my/cases/{case_no}", headers=ZH).get_data(as_text=True)
    assert "您的评价: <strong>非常满意</strong>" in page and "追加评价" in page
    running = apply(api, FOOD, FOOD_APPLY)["case_no"]
    assert "评价本次服务" not in client.get(f"/my/cases/{running}", headers=ZH).get_data(as_text=True)
