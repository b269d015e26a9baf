"""好差评 indicators and the performance score through the API, checked against figures computed by hand
on a fixed set of ratings (all kinds: active, defaulted unrated and with the default level, follow-ups,
real-name and anonymous bad ratings) and rectifications in each state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.models import (
    AuditEntry,
    Case,
    Department,
    Item,
    Rating,
    RatingRequest,
    Rectification,
    ServiceWindow,
    StatDaily,
    SupervisionOrder,
    User,
)

from .flows import FOOD, FOOD_APPLY, apply

pytestmark = pytest.mark.usefixtures("demo")
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}
FOOD2, BUILD = "420100-SCJG-002", "420100-ZJJ-001"


@dataclass(frozen=True)
class R:
    """One service's rating (and what followed it), as the fixed data set lists them."""

    day: str  # China date the rating was given (or the window closed), 10:00 China time
    item: str
    level: int | None
    kind: str = "rating"  # or "defaulted"
    rater: str | None = None  # None: anonymous (window QR) or nobody (defaulted)
    officer: str | None = None
    window: str | None = None
    follow_up: int | None = None  # level of a follow-up by the same rater, the next day
    rect: dict | None = None  # the rectification of the bad rating (of the follow-up when there is one)
    at: datetime | None = None  # an exact instant instead of `day`


VALID_DONE = {"classification": "valid", "called_back": True, "rectified": True}
RATINGS = [
    # 市场监管局, 食品经营许可, online, handled by market_clerk
    R("2026-11-02", FOOD, 5, rater="company", officer="market_clerk"),
    R("2026-11-03", FOOD, 4, rater="citizen", officer="market_clerk"),
    R("2026-11-04", FOOD, 3, rater="company", officer="market_clerk"),
    R("2026-11-05", FOOD, 1, rater="company", officer="market_clerk", rect=VALID_DONE),
    R("2026-11-06", FOOD, 2, rater="citizen", officer="market_clerk",
      rect={"classification": "valid", "called_back": True, "rectified": False}),
    R("2026-11-10", FOOD, None, kind="defaulted", officer="market_clerk"),  # 未评
    R("2026-11-11", FOOD, 4, kind="defaulted", officer="market_clerk"),  # the centre's default level
    R("2026-11-12", FOOD, 5, rater="citizen", officer="market_clerk", follow_up=2,
      rect={"classification": "mistaken", "called_back": False, "rectified": False}),
    # 市场监管局, 补办, at window W01 (market_clerk2), anonymous QR ratings
    R("2026-11-16", FOOD2, 1, officer="market_clerk2", window="W01",
      rect={"classification": "valid", "called_back": False, "rectified": True}),
    R("2026-11-17", FOOD2, 5, officer="market_clerk2", window="W01"),
    R("2026-11-18", FOOD2, 2, officer="market_clerk2", window="W01",
      rect={"classification": "malicious", "called_back": False, "rectified": False}),
    R("2026-11-19", FOOD2, None, kind="defaulted", officer="market_clerk2", window="W01"),
    # 住建局, 施工许可, online, housing_clerk
    R("2026-11-20", BUILD, 4, rater="builder", officer="housing_clerk"),
    R("2026-11-21", BUILD, 2, rater="builder", officer="housing_clerk"),  # not judged, not called back yet
    # 00:30 on 1 December in China: December's, not November's
    R("", BUILD, 5, rater="builder", officer="housing_clerk", at=datetime(2026, 11, 30, 16, 30, tzinfo=UTC)),
    R("2026-10-15", BUILD, 1, rater="builder", officer="housing_clerk", rect=VALID_DONE),
]


def insert_ratings(ctx, ratings: list[R] = RATINGS) -> None:
    """The fixed data set, written with the ORM as the rating and rectification services write it."""
    with ctx.uow(write=True) as uow:
        s = uow.session
        users = {k: v for k, v in s.execute(select(User.username, User.id))}
        items = {code: (i, d) for code, i, d in s.execute(select(Item.code, Item.id, Item.department_id))}
        market = s.scalar(select(Department.id).where(Department.code == "market"))
        window = s.scalar(select(ServiceWindow).where(ServiceWindow.code == "W01"))
        if window is None:
            window = ServiceWindow(code="W01", name="一号窗口", department_id=market, active=True,
                                   created_at=datetime(2026, 10, 1, tzinfo=UTC))
            s.add(window)
            s.flush()
        for r in ratings:
            at = r.at or datetime.fromisoformat(f"{r.day}T02:00:00+00:00")
            item_id, department_id = items[r.item]
            channel = "window" if r.window else "online"
            request = RatingRequest(channel=channel, served_at=at - timedelta(hours=1), remind_at=None,
                                    expires_at=at + timedelta(days=7),
                                    state="expired" if r.kind == "defaulted" else "rated")
            s.add(request)
            s.flush()
            where = {"item_id": item_id, "department_id": department_id, "channel": channel,
                     "window_id": window.id if r.window else None, "officer_id": users.get(r.officer),
                     "request_id": request.id}
            first = Rating(seq=1, kind=r.kind, level=r.level, rated_by_id=users.get(r.rater), rated_at=at,
                           dimensions={}, reasons=["attitude"] if r.level in (1, 2) else [], comment="", **where)
            s.add(first)
            s.flush()
            bad = first
            if r.follow_up is not None:
                bad = Rating(seq=2, kind="follow_up", level=r.follow_up, rated_by_id=users.get(r.rater),
                             rated_at=at + timedelta(days=1), follow_up_of_id=first.id, dimensions={},
                             reasons=["other"], comment="", **where)
                s.add(bad)
                s.flush()
            if r.rect is not None:
                s.add(Rectification(
                    rating_id=bad.id, department_id=department_id, opened_at=bad.rated_at,
                    state="closed" if r.rect["rectified"] else "open", classification=r.rect["classification"],
                    called_back_at=bad.rated_at + timedelta(hours=3) if r.rect["called_back"] else None,
                    rectified_at=bad.rated_at + timedelta(days=2) if r.rect["rectified"] else None))
        # A service whose window is still open is not counted anywhere.
        s.add(RatingRequest(channel="online", served_at=datetime(2026, 11, 20, tzinfo=UTC), remind_at=None,
                            expires_at=datetime(2026, 11, 27, tzinfo=UTC), state="open"))
        uow.commit()


def counts(row: dict) -> tuple:
    return (row["services"], row["with_level"], row["good"], row["active"], row["active_good"], row["unrated"],
            row["follow_ups"], row["bad"], row["valid_bad"], row["valid_bad_rectified"], row["real_name_bad"],
            row["real_name_bad_called_back"])


def rates(row: dict) -> tuple:
    return (row["good_rate"], row["active_good_rate"], row["unrated_rate"], row["rectification_rate"],
            row["callback_rate"])


# Hand counts for November: (services, with a level, good, active, active good, unrated, follow-ups, bad,
# valid bad, valid bad rectified, real-name bad, real-name bad called back), then the five rates.
NOV_TOTAL = (14, 12, 6, 11, 5, 3, 1, 6, 3, 2, 4, 2)
NOV_TOTAL_RATES = (0.5, 0.4545, 0.2143, 0.6667, 0.5)
NOV_BY = {
    "department": {
        "市场监督管理局 (market)": ((12, 10, 5, 9, 4, 3, 1, 5, 3, 2, 3, 2), (0.5, 0.4444, 0.25, 0.6667, 0.6667)),
        "住房和城乡建设局 (housing)": ((2, 2, 1, 2, 1, 0, 0, 1, 0, 0, 1, 0), (0.5, 0.5, 0.0, None, 0.0)),
    },
    "item": {
        f"食品经营许可 ({FOOD})": ((8, 7, 4, 6, 3, 2, 1, 3, 2, 1, 3, 2), (0.5714, 0.5, 0.25, 0.5, 0.6667)),
        f"食品经营许可证补办 ({FOOD2})": ((4, 3, 1, 3, 1, 1, 0, 2, 1, 1, 0, 0), (0.3333, 0.3333, 0.25, 1.0, None)),
        f"建筑工程施工许可证核发（并联审批） ({BUILD})": ((2, 2, 1, 2, 1, 0, 0, 1, 0, 0, 1, 0), (0.5, 0.5, 0.0, None, 0.0)),
    },
    "window": {
        "一号窗口 (W01)": ((4, 3, 1, 3, 1, 1, 0, 2, 1, 1, 0, 0), (0.3333, 0.3333, 0.25, 1.0, None)),
        "网上办件（无窗口）/ no window": ((10, 9, 5, 8, 4, 2, 1, 4, 2, 1, 4, 2), (0.5556, 0.5, 0.2, 0.5, 0.5)),
    },
    "officer": {
        "王芳 (market_clerk)": ((8, 7, 4, 6, 3, 2, 1, 3, 2, 1, 3, 2), (0.5714, 0.5, 0.25, 0.5, 0.6667)),
        "赵磊 (market_clerk2)": ((4, 3, 1, 3, 1, 1, 0, 2, 1, 1, 0, 0), (0.3333, 0.3333, 0.25, 1.0, None)),
        "孙丽 (housing_clerk)": ((2, 2, 1, 2, 1, 0, 0, 1, 0, 0, 1, 0), (0.5, 0.5, 0.0, None, 0.0)),
    },
}


def test_indicators_match_the_hand_count(api, ctx):
    insert_ratings(ctx)
    month = api.get("/statistics/ratings", "supervisor", query_string=NOVEMBER).get_json()
    [row] = month["rows"]
    assert row["period"] == "2026-11"
    assert counts(row) == NOV_TOTAL == counts(month["totals"])
    assert rates(row) == NOV_TOTAL_RATES == rates(month["totals"])
    assert set(month["definitions"]) >= {"good_rate", "active_good_rate", "unrated_rate", "rectification_rate",
                                         "callback_rate", "period"}
    for by, expected in NOV_BY.items():
        rows = api.get("/statistics/ratings", "supervisor", query_string={**NOVEMBER, "by": by}).get_json()["rows"]
        assert {r["label"]: (counts(r), rates(r)) for r in rows} == expected, by


def test_periods_follow_the_rating_day_in_china_time(api, ctx):
    insert_ratings(ctx)
    months = api.get("/statistics/ratings", "supervisor",
                     query_string={"from": "2026-10-01", "to": "2026-12-31"}).get_json()
    got = {r["period"]: (r["services"], r["good_rate"], r["rectification_rate"], r["callback_rate"])
           for r in months["rows"]}
    assert got == {"2026-10": (1, 0.0, 1.0, 1.0), "2026-11": (14, 0.5, 0.6667, 0.5), "2026-12": (1, 1.0, None, None)}
    assert months["totals"]["services"] == 16
    days = api.get("/statistics/ratings", "supervisor",
                   query_string={"from": "2026-11-30", "to": "2026-12-01", "period": "day"}).get_json()
    assert [(r["period"], r["services"]) for r in days["rows"]] == [("2026-12-01", 1)]  # 16:30 UTC on the 30th
    year = api.get("/statistics/ratings", "supervisor",
                   query_string={"from": "2026-01-01", "to": "2026-12-31", "period": "year",
                                 "department": "market", "channel": "window"}).get_json()
    assert [(r["period"], counts(r)) for r in year["rows"]] == [("2026", (4, 3, 1, 3, 1, 1, 0, 2, 1, 1, 0, 0))]


def test_filters_by_item_window_and_officer(api, ctx):
    insert_ratings(ctx)
    for args in ({"item": FOOD2}, {"window": "W01"}, {"officer": "market_clerk2"}):
        got = api.get("/statistics/ratings", "supervisor", query_string={**NOVEMBER, **args}).get_json()
        assert (counts(got["totals"]), rates(got["totals"])) == NOV_BY["window"]["一号窗口 (W01)"], args


def test_no_ratings_show_no_rate(api):
    got = api.get("/statistics/ratings", "supervisor", query_string=NOVEMBER).get_json()
    assert got["rows"] == [] and got["totals"]["services"] == 0
    assert rates(got["totals"]) == (None,) * 5  # a zero denominator is no figure, not 0 %


def test_who_sees_the_indicators(api, ctx):
    insert_ratings(ctx)
    own = api.get("/statistics/ratings", "market_head", query_string=NOVEMBER).get_json()
    assert own["filters"]["department"] == "market" and own["totals"]["services"] == 12
    assert api.get("/statistics/ratings", "market_head", query_string={"department": "housing"}).status_code == 403
    for user in ("market_clerk", "company"):
        assert api.get("/statistics/ratings", user).status_code == 403
        assert api.get("/statistics/performance", user).status_code == 403
    assert api.get("/statistics/ratings").status_code == 401


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2026-13-01"}, "from"), ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
    ({"period": "week"}, "period"), ({"by": "colour"}, "by"), ({"window": "W99"}, "window"),
    ({"department": "nope"}, "department"), ({"officer": "company"}, "officer"), ({"colour": "red"}, "colour"),
])
def test_bad_filters_are_4xx_with_the_field(api, args, field):
    for path in ("/statistics/ratings", "/statistics/performance"):
        if path.endswith("performance") and field in ("period", "by", "window", "officer"):
            continue
        resp = api.get(path, "supervisor", query_string=args)
        assert 400 <= resp.status_code < 500, (path, args)
        assert field in {e.get("field") for e in resp.get_json()["errors"]}, (path, args)


def performance_data(api, ctx) -> None:
    """The fixed ratings, plus cases as the daily rollups count them and supervision orders."""
    insert_ratings(ctx)
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    with ctx.uow(write=True) as uow:
        s = uow.session
        ids = {k: v for k, v in s.execute(select(Department.code, Department.id))}
        items = {k: v for k, v in s.execute(select(Item.code, Item.id))}
        s.add_all([StatDaily(day=date(2026, 11, 10), department_id=ids["market"], item_id=items[FOOD],
                             channel="online", received=20, on_time=9, late=1),
                   StatDaily(day=date(2026, 11, 12), department_id=ids["housing"], item_id=items[BUILD],
                             channel="online", received=10),
                   StatDaily(day=date(2026, 10, 12), department_id=ids["market"], item_id=items[FOOD],
                             channel="online", received=5, late=5)])  # October: outside the range
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        supervisor = s.scalar(select(User.id).where(User.username == "supervisor"))
        for issued in (datetime(2026, 11, 20, 2, tzinfo=UTC), datetime(2026, 10, 31, 17, tzinfo=UTC)):
            s.add(SupervisionOrder(case_id=case_id, department="market", reason="超期", reply_by=issued,
                                   issued_by=supervisor, issued_at=issued, state="open"))
        uow.commit()


def test_performance_score_with_the_weights_an_administrator_sets(api, ctx):
    performance_data(api, ctx)
    default = api.get("/statistics/performance", "supervisor", query_string=NOVEMBER).get_json()
    assert default["weights"] == {"on_time": 40, "good_rating": 30, "rectification": 20, "supervision": 10,
                                  "order_cap": 5}
    rows = {r["department"]: r for r in default["rows"]}
    market = rows["market"]
    # The order issued at 17:00 UTC on 31 October is 1 November's in China: 2 orders per 20 cases.
    assert (market["received"], market["on_time_cases"], market["late_cases"], market["orders"]) == (20, 9, 1, 2)
    assert (market["on_time"], market["good_rating"], market["rectification"], market["orders_per_100"],
            market["supervision"]) == (90.0, 50.0, 66.67, 10.0, 0.0)
    assert market["score"] == round((40 * 90 + 30 * 50 + 20 * 66.67 + 10 * 0) / 100, 2) == 64.33
    housing = rows["housing"]  # nothing finished, no valid bad rating: those components are left out
    assert (housing["on_time"], housing["good_rating"], housing["rectification"], housing["supervision"]) == (
        None, 50.0, None, 100.0)
    assert housing["score"] == round((30 * 50 + 10 * 100) / 40, 2) == 62.5
    assert rows["fire"]["score"] is None

    weights = {"on_time": 50, "good_rating": 20, "rectification": 20, "supervision": 10, "order_cap": 20}
    assert api.put("/statistics/performance/weights", "supervisor", json=weights).status_code == 403
    resp = api.put("/statistics/performance/weights", "admin", json=weights)
    assert resp.status_code == 200 and resp.get_json() == weights
    assert api.get("/statistics/performance/weights", "supervisor").get_json() == weights
    rows = {r["department"]: r for r in api.get("/statistics/performance", "supervisor",
                                                query_string=NOVEMBER).get_json()["rows"]}
    assert rows["market"]["supervision"] == 50.0  # 10 per 100 cases against a cap of 20
    assert rows["market"]["score"] == round((50 * 90 + 20 * 50 + 20 * 66.67 + 10 * 50) / 100, 2) == 73.33
    assert rows["housing"]["score"] == round((20 * 50 + 10 * 100) / 30, 2) == 66.67
    with ctx.uow() as uow:
        [entry] = uow.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "performance"))
        assert entry.action == "performance.weights" and entry.actor_name == "admin"
        assert entry.after["on_time"] == 50 and entry.before["on_time"] == 40

    own = api.get("/statistics/performance", "market_head", query_string=NOVEMBER).get_json()
    assert [r["department"] for r in own["rows"]] == ["market"]


@pytest.mark.parametrize(("body", "fields"), [
    ({"on_time": -1, "good_rating": 30, "rectification": 20, "supervision": 10, "order_cap": 5}, {"on_time"}),
    ({"on_time": "x", "good_rating": 1.5, "rectification": True, "supervision": 10, "order_cap": 0},
     {"on_time", "good_rating", "rectification", "order_cap"}),
    ({"on_time": 0, "good_rating": 0, "rectification": 0, "supervision": 0, "order_cap": 5}, {"_weights"}),
    ({}, {"on_time", "good_rating", "rectification", "supervision", "order_cap"}),
])
def test_bad_weights_are_422_with_a_message_per_field(api, body, fields):
    resp = api.put("/statistics/performance/weights", "admin", json=body)
    assert resp.status_code == 422
    assert {e["field"] for e in resp.get_json()["errors"]} == fields
    assert api.get("/statistics/performance/weights", "admin").get_json()["on_time"] == 40  # unchanged


def test_unknown_weight_fields_and_bodies_are_refused(api):
    assert api.put("/statistics/performance/weights", "admin", json={"colour": 1}).status_code == 400
    assert api.put("/statistics/performance/weights", "admin", data="nope",
                   content_type="application/json").status_code == 400
