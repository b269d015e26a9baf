"""好差评 through the API, as applicants, window visitors, supervisors and administrators use it: a finished
case invites its applicant, who rates it (a bad rating names a reason) and may follow up once; a window
visit is rated by its QR token without signing in, once; the reminder goes once after 24 hours; an unrated
case counts as 未评 when its window of five working days closes (on the injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Case, Notification, OutboxMessage
from app.services.ratings import rate
from app.services.ratings.sweep import sweep_ratings
from tests.e2e.flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS, apply, complete

pytestmark = pytest.mark.usefixtures("demo")

ONLINE = {"efficiency": 2, "guide_accuracy": 3, "convenience": 2, "usability": 4}
WINDOW = {"efficiency": 5, "competence": 5, "attitude": 4}


def finished_case(api, licence_no: str = ISSUE["licence_no"]) -> str:
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    issued = complete(api, case_no, "issue_licence", "center_clerk", {**ISSUE, "licence_no": licence_no})
    assert issued["status"] == "issued"
    return case_no


def messages(ctx, case_no, event):
    """(in-app rows, outbox channels) of one milestone event of the case."""
    with ctx.uow() as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        key = f"milestone|{case_id}|{event}|%"
        in_app = s.scalars(select(Notification).where(Notification.dedupe_key.like(key))).all()
        outbox = s.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like(key))).all()
        return [(n.title, n.body, n.link) for n in in_app], sorted(m.channel for m in outbox)


def test_a_finished_case_invites_its_applicant_who_rates_it_bad_with_reasons_and_follows_up_once(api, ctx):
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    early = api.post(f"/cases/{case_no}/ratings", "company", json={"level": 5, "dimensions": ONLINE})
    assert early.status_code == 409  # not finished yet
    for key, user, data in (("preview", "market_clerk", PASS), ("acceptance", "market_clerk", ACCEPT),
                            ("review", "market_approver", APPROVE), ("decision", "market_head", GRANT),
                            ("issue_licence", "center_clerk", ISSUE)):
        complete(api, case_no, key, user, data)

    in_app, outbox = messages(ctx, case_no, "rating_invite")
    assert len(in_app) == 1 and outbox == ["sms"]  # the demo applicant has a phone, no e-mail
    title, body, link = in_app[0]
    assert title == f"请评价办件 {case_no}" and link == f"/my/cases/{case_no}/rate"
    assert f"/my/cases/{case_no}/rate" in body and "2026-11-30" in body  # five working days after Monday 23rd

    heard = []
    def listener(ctx, s, rating):
        heard.append((rating.case_id, rating.level))

    rate.bad_rating_listeners.append(listener)
    try:
        no_reason = api.post(f"/cases/{case_no}/ratings", "company", json={"level": 2, "dimensions": ONLINE})
        assert no_reason.status_code == 422
        assert [e["field"] for e in no_reason.get_json()["errors"]] == ["reasons"]
        assert api.get(f"/cases/{case_no}/ratings", "company").get_json()["ratings"] == []  # nothing saved
        missing = api.post(f"/cases/{case_no}/ratings", "company", json={"level": 9, "dimensions": {"speed": 3}})
        assert missing.status_code == 422
        assert {e["field"] for e in missing.get_json()["errors"]} == {
            "level", "dimensions.efficiency", "dimensions.guide_accuracy", "dimensions.convenience",
            "dimensions.usability", "dimensions.speed"}

        assert api.post(f"/cases/{case_no}/ratings", "citizen",
                        json={"level": 5, "dimensions": ONLINE}).status_code == 404  # not their case
        bad = api.post(f"/cases/{case_no}/ratings", "company", json={
            "level": 2, "dimensions": ONLINE, "reasons": ["efficiency", "one_time_notice"], "comment": "补正两次"})
        assert bad.status_code == 201, bad.get_json()
        first = bad.get_json()
        assert first["grade"] == "bad" and first["kind"] == "rating" and first["reasons"] == ["efficiency",
                                                                                              "one_time_notice"]
        assert heard == [(first_case_id(ctx, case_no), 2)]  # the hook the rectification process will use
    finally:
        rate.bad_rating_listeners.remove(listener)

    follow = api.post(f"/cases/{case_no}/ratings", "company", json={"level": 4, "dimensions": ONLINE,
                                                                     "comment": "问题已解决"})
    assert follow.status_code == 201 and follow.get_json()["kind"] == "follow_up"
    assert follow.get_json()["follow_up_of"] == first["id"]
    third = api.post(f"/cases/{case_no}/ratings", "company", json={"level": 5, "dimensions": ONLINE})
    assert third.status_code == 409
    state = api.get(f"/cases/{case_no}/ratings", "company").get_json()
    assert [r["kind"] for r in state["ratings"]] == ["rating", "follow_up"] and state["can_rate"] is False

    listed = api.get("/ratings", "supervisor", query_string={"item": FOOD}).get_json()
    assert [(r["kind"], r["level"], r["grade"]) for r in listed["items"]] == [("follow_up", 4, "good"),
                                                                              ("rating", 2, "bad")]
    assert listed["items"][1]["department"]["code"] == "market"
    assert listed["items"][1]["officer"]["name"]  # the officer who finished the case
    assert [r["name"] for r in listed["items"][1]["reasons"]] == ["办事效率", "一次性告知"]
    assert api.get("/ratings", "supervisor", query_string={"grade": "bad"}).get_json()["total"] == 1
    assert api.get("/ratings", "company").status_code == 403
    assert api.get("/ratings", "supervisor", query_string={"grade": "awful"}).status_code == 400


def first_case_id(ctx, case_no):
    with ctx.uow() as uow:
        return uow.session.scalar(select(Case.id).where(Case.case_no == case_no))


def test_the_reminder_goes_once_after_24_hours(api, ctx, clock):
    case_no = finished_case(api)
    clock.advance(timedelta(hours=23, minutes=59))
    assert sweep_ratings(ctx).reminded == 0
    assert messages(ctx, case_no, "rating_reminder") == ([], [])
    clock.advance(timedelta(minutes=2))
    assert sweep_ratings(ctx).reminded == 1
    in_app, outbox = messages(ctx, case_no, "rating_reminder")
    assert [t for t, _, _ in in_app] == [f"办件 {case_no} 尚未评价"] and outbox == ["sms"]
    clock.advance(timedelta(hours=30))
    assert sweep_ratings(ctx).reminded == 0
    assert len(messages(ctx, case_no, "rating_reminder")[0]) == 1  # once


def test_a_rated_case_gets_no_reminder(api, ctx, clock):
    case_no = finished_case(api)
    assert api.post(f"/cases/{case_no}/ratings", "company",
                    json={"level": 5, "dimensions": ONLINE}).status_code == 201
    clock.advance(timedelta(days=2))
    assert sweep_ratings(ctx).reminded == 0
    assert messages(ctx, case_no, "rating_reminder") == ([], [])


def test_an_unrated_case_counts_as_unrated_after_five_working_days(api, ctx, clock):
    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # Thursday 09:00 in Beijing
    case_no = finished_case(api)
    clock.set(datetime(2026, 12, 3, 15, 0, tzinfo=UTC))  # Thursday 3 December 23:00: the 5th working day
    assert sweep_ratings(ctx).expired == 0
    state = api.get(f"/cases/{case_no}/ratings", "company").get_json()
    assert state["can_rate"] is True and state["rate_by"].startswith("2026-12-03T15:59:59")
    clock.set(datetime(2026, 12, 3, 16, 1, tzinfo=UTC))  # Friday 00:01 in Beijing
    assert sweep_ratings(ctx).expired == 1
    assert sweep_ratings(ctx).expired == 0  # once
    late = api.post(f"/cases/{case_no}/ratings", "company", json={"level": 5, "dimensions": ONLINE})
    assert late.status_code == 409
    listed = api.get("/ratings", "supervisor", query_string={"grade": "unrated"}).get_json()
    assert [(r["case_no"], r["kind"], r["level"], r["level_name"]) for r in listed["items"]] == [
        (case_no, "defaulted", None, "未评")]


def test_the_centre_may_count_an_unrated_case_at_a_default_level(api, ctx, clock):
    rules = api.get("/rating-rules").get_json()
    assert rules["window_days"] == 5 and rules["reminder_hours"] == 24 and rules["default_level"] is None
    bad = api.put("/rating-rules", "admin", json={**rules, "window_days": 0, "reasons": []})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"window_days", "reasons"}
    assert api.put("/rating-rules", "supervisor", json=rules).status_code == 403
    changed = api.put("/rating-rules", "admin", json={**rules, "window_days": 2, "default_level": 4})
    assert changed.status_code == 200 and changed.get_json()["default_level"] == 4
    with ctx.uow() as uow:
        assert uow.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "rating")) == "rating.rules"

    case_no = finished_case(api)  # Monday: two working days end on Wednesday
    clock.set(datetime(2026, 11, 25, 16, 1, tzinfo=UTC))  # Thursday 00:01 in Beijing
    assert sweep_ratings(ctx).expired == 1
    [row] = api.get("/ratings", "supervisor").get_json()["items"]
    assert (row["case_no"], row["kind"], row["level"], row["grade"]) == (case_no, "defaulted", 4, "good")


def seat_clerk(api, code="W01"):
    resp = api.put(f"/windows/{code}", "admin", json={"name": "综合受理3号窗口", "department": "service_center",
                                                       "clerks": ["center_clerk"]})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_a_window_visit_is_rated_by_its_token_without_signing_in_once(api, ctx, clock):
    assert api.put("/windows/W01", "admin", json={"name": "x", "clerks": ["company"]}).status_code == 422
    assert seat_clerk(api)["clerks"] == ["center_clerk"]
    assert api.post("/visits", "market_clerk").status_code == 403  # not seated at a window
    visit = api.post("/visits", "center_clerk")
    assert visit.status_code == 201
    token = visit.get_json()["token"]
    assert visit.get_json()["url"].endswith(f"/rate/visit/{token}")

    served = clock.now()
    clock.set(served - timedelta(minutes=5))  # another process's clock behind: a rating cannot predate the visit
    assert api.post(f"/visits/{token}/ratings", json={"level": 5, "dimensions": WINDOW}).status_code == 409
    clock.set(served)
    shown = api.get(f"/visits/{token}").get_json()
    assert shown["open"] is True and shown["window"] == "综合受理3号窗口" and shown["case_no"] is None
    assert api.post(f"/visits/{token}/ratings", json={"level": 5, "dimensions": ONLINE}).status_code == 422
    done = api.post(f"/visits/{token}/ratings", json={"level": 5, "dimensions": WINDOW})
    assert done.status_code == 201 and done.get_json()["channel"] == "window"
    again = api.post(f"/visits/{token}/ratings", json={"level": 1, "dimensions": WINDOW, "reasons": ["attitude"]})
    assert again.status_code == 409
    assert api.get(f"/visits/{token}").get_json()["rated"] is True
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    assert api.post(f"/visits/{forged}/ratings", json={"level": 5, "dimensions": WINDOW}).status_code == 404

    listed = api.get("/ratings", "supervisor", query_string={"window": "W01", "channel": "window"}).get_json()
    assert [(r["level"], r["window"]["code"], r["officer"]["staff_no"] is not None) for r in listed["items"]] == [
        (5, "W01", True)]
    assert api.get("/ratings", "supervisor", query_string={"officer": "center_clerk"}).get_json()["total"] == 1


def test_one_failing_reminder_never_stops_the_others_and_is_retried(api, ctx, clock, monkeypatch):
    from app.services.ratings import invite

    broken, fine = finished_case(api, "JY14201020269001"), finished_case(api, "JY14201020269002")
    real = invite.tell

    def tell(ctx, s, now, case, request, event):  # the message of one case cannot be written
        if case.case_no == broken:
            raise RuntimeError("template store unavailable")
        real(ctx, s, now, case, request, event)

    monkeypatch.setattr(invite, "tell", tell)
    clock.advance(timedelta(hours=25))
    result = sweep_ratings(ctx)
    assert (result.reminded, result.failed) == (1, 1)
    assert len(messages(ctx, fine, "rating_reminder")[0]) == 1 and messages(ctx, broken, "rating_reminder")[0] == []
    monkeypatch.setattr(invite, "tell", real)
    assert sweep_ratings(ctx).reminded == 0  # postponed, not hammered
    clock.advance(timedelta(hours=1))
    assert sweep_ratings(ctx).reminded == 1
    assert len(messages(ctx, broken, "rating_reminder")[0]) == 1


def test_the_scheduler_reminds_once_then_closes_the_window_as_unrated(app, api, ctx, clock):
    """The same rules through `flask scheduler tick`, as the scheduler process runs them."""
    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # Thursday 09:00 in Beijing
    case_no = finished_case(api)

    def tick() -> str:
        result = app.test_cli_runner().invoke(args=["scheduler", "tick"])
        assert result.exit_code == 0, result.output
        return next(line for line in result.output.splitlines() if line.startswith("ratings:"))

    clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))  # 25 hours later
    assert tick() == "ratings: 1 rating window(s) closed or reminded"
    assert tick() == "ratings: 0 rating window(s) closed or reminded"
    assert len(messages(ctx, case_no, "rating_reminder")[0]) == 1
    clock.set(datetime(2026, 12, 3, 16, 1, tzinfo=UTC))  # Friday 00:01 in Beijing: the window has closed
    assert tick() == "ratings: 1 rating window(s) closed or reminded"
    listed = api.get("/ratings", "supervisor", query_string={"grade": "unrated"}).get_json()
    assert [(r["case_no"], r["kind"]) for r in listed["items"]] == [(case_no, "defaulted")]
