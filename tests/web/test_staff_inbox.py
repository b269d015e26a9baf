"""The staff inbox: views and their counts, deadline lights, sorting, filters, search, pagination,
both languages, and who may open it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.services.identity.auth import authenticate
from app.services.workbench import inbox as service
from app.services.workbench import inbox_search
from app.workdays import default_calendar, end_of_day
from tests.conftest import START
from tests.e2e.flows import (
    FOOD,
    FOOD_APPLY,
    INSTANT,
    INSTANT_APPLY,
    JOINT,
    JOINT_APPLY,
    PASS,
    apply,
    complete,
)

from .staff_helpers import Browser, count, main_text, rows, text

CAL = default_calendar()

pytestmark = pytest.mark.usefixtures("demo")


def food(api, user="company"):
    return apply(api, FOOD, FOOD_APPLY, user=user)["case_no"]


def test_views_and_counts_follow_the_work(app, api, clock):
    cases = [food(api) for _ in range(3)]
    apply(api, JOINT, JOINT_APPLY, user="builder")  # housing's task: never in market's inbox
    clerk = Browser(app, "market_clerk")

    first = clerk.get("/staff/inbox")  # nothing claimed yet: the department's unclaimed tasks first
    assert first.status_code == 200
    assert rows(first) == cases
    assert [count(first, v) for v in ("mine", "group", "due_soon", "overdue", "done")] == [0, 3, 3, 0, 0]
    assert current_tab(first) == "部门待认领"

    clerk.post(f"/staff/tasks/{_task(api, cases[0])}/claim")
    mine = clerk.get("/staff/inbox")  # holding a task: "mine" is the default now
    assert rows(mine) == cases[:1] and current_tab(mine) == "我的待办"
    assert [count(mine, v) for v in ("mine", "group", "due_soon")] == [1, 2, 3]

    complete(api, cases[1], "preview", "market_clerk", PASS)
    done = clerk.get("/staff/inbox?view=done")
    assert rows(done) == [cases[1]] and count(done, "done") == 1
    assert "预审" in main_text(done)
    # the acceptance step that followed is the department's again
    assert count(done, "group") == 2

    clock.advance(timedelta(days=3))  # Thursday: the 1-working-day previews are overdue
    late = clerk.get("/staff/inbox?view=overdue")  # both previews and the acceptance step
    assert sorted(rows(late)) == sorted(cases) and count(late, "overdue") == 3
    assert "light-red" in late.get_data(as_text=True) and "已超期" in main_text(late)


def test_due_soon_and_lights_follow_the_rule(app, api, demo, clock):
    case_no = food(api)
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", {"accept_result": "accept"})
    approver = authenticate(demo, "market_approver", "demo1234")
    # review has 5 working days: Monday 23 Nov → due Monday 30 Nov; green with 5 days left
    page = service.inbox(demo, approver, service.InboxQuery(view="group"))
    assert [(r.remaining, r.light) for r in page.rows] == [(5, "green")] and page.counts["due_soon"] == 0
    clock.advance(timedelta(days=3))  # Thursday: 2 working days left, 40 % of the time used
    page = service.inbox(demo, approver, service.InboxQuery(view="group"))
    assert [(r.remaining, r.light) for r in page.rows] == [(2, "green")] and page.counts["due_soon"] == 0
    clock.advance(timedelta(days=1))  # Friday: 1 working day left
    page = service.inbox(demo, approver, service.InboxQuery(view="due_soon"))
    assert [(r.remaining, r.light) for r in page.rows] == [(1, "yellow")]
    clock.advance(timedelta(days=3))  # Monday 30 Nov: due today
    page = service.inbox(demo, approver, service.InboxQuery(view="due_soon"))
    assert [(r.remaining, r.light) for r in page.rows] == [(0, "yellow")]
    clock.advance(timedelta(days=1))
    page = service.inbox(demo, approver, service.InboxQuery(view="overdue"))
    assert [(r.remaining, r.light) for r in page.rows] == [(-1, "red")] and page.counts["due_soon"] == 0
    assert "已超期 1 个工作日" in main_text(Browser(app, "market_approver").get("/staff/inbox?view=overdue"))


def test_eighty_percent_of_the_time_turns_the_light_yellow(demo, clock):
    created = START  # Monday 23 Nov, 09:00 Beijing
    due = end_of_day(date(2026, 12, 4))  # Friday of the next week
    assert service.light(due, created, created + timedelta(days=5), CAL) == "green"  # Saturday: 4 working days left
    wednesday = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # 18:00 Beijing: 2 working days left, 81 % gone
    assert service.remaining_workdays(due, wednesday, CAL) == 2
    assert service.light(due, created, wednesday, CAL) == "yellow"
    assert service.light(None, created, wednesday, CAL) is None
    assert service.light(due, created, due + timedelta(seconds=1), CAL) == "red"
    # and the due-soon view agrees with the light (SQL and Python share the rule)
    case_no = food_in(demo)
    clerk = authenticate(demo, "market_clerk", "demo1234")
    assert [r.case_no for r in service.inbox(demo, clerk, service.InboxQuery(view="due_soon")).rows] == [case_no]


def test_sorted_by_deadline_by_default_and_by_received_on_request(app, api, clock):
    made = []
    for _ in range(3):
        made.append(food(api))
        clock.advance(timedelta(days=1))
    clock.set(clock.now() - timedelta(days=3))
    # The last case's preview is completed: its acceptance step (due a day later) joins the list.
    complete(api, made[0], "preview", "market_clerk", PASS)
    clerk = Browser(app, "market_clerk")
    by_deadline = rows(clerk.get("/staff/inbox?view=group"))
    assert by_deadline == [made[0], made[1], made[2]]
    assert rows(clerk.get("/staff/inbox?view=group&sort=-deadline")) == [made[2], made[1], made[0]]
    newest = clerk.get("/staff/inbox?view=group&sort=-received")
    assert rows(newest) == [made[2], made[1], made[0]]
    assert 'aria-sort="descending"' in newest.get_data(as_text=True)
    assert clerk.get("/staff/inbox?view=group&sort=nonsense").status_code == 400


def test_filters_and_search(app, api):
    mine = food(api)
    theirs = food(api, user="citizen")
    instant = apply(api, INSTANT, INSTANT_APPLY)["case_no"]
    clerk = Browser(app, "market_clerk")
    assert rows(clerk.get(f"/staff/inbox?view=group&item={INSTANT}")) == [instant]
    assert rows(clerk.get("/staff/inbox?view=group&step=handle_on_spot")) == [instant]
    assert sorted(rows(clerk.get("/staff/inbox?view=group&step=preview"))) == sorted([mine, theirs])
    assert rows(clerk.get("/staff/inbox?view=group&department=housing")) == []
    assert len(rows(clerk.get("/staff/inbox?view=group&department=market"))) == 3
    assert rows(clerk.get(f"/staff/inbox?view=group&q={theirs}")) == [theirs]
    assert rows(clerk.get(f"/staff/inbox?view=group&q={theirs[-4:]}")) == [theirs]  # part of the number
    assert rows(clerk.get(f"/staff/inbox?view=group&q={theirs.lower()}")) == [theirs]  # any case
    assert sorted(rows(clerk.get(f"/staff/inbox?view=group&q={theirs[:-1]}"))) == sorted([mine, theirs])  # a start
    assert rows(clerk.get("/staff/inbox?view=group&q=李娜")) == [theirs]  # the citizen's name
    assert rows(clerk.get("/staff/inbox?view=group&q=citizen")) == [theirs]  # user name, exactly
    assert sorted(rows(clerk.get("/staff/inbox?view=group&q=江城味道"))) == sorted([mine, instant])
    assert rows(clerk.get("/staff/inbox?view=group&q=%25")) == []  # LIKE wildcards are literal
    filtered = clerk.get(f"/staff/inbox?view=group&item={FOOD}")
    assert count(filtered, "group") == 2  # counts follow the filters
    assert f'<option value="{FOOD}" selected>' in filtered.get_data(as_text=True)


def test_pagination(app, api):
    made = [food(api) for _ in range(5)]
    clerk = Browser(app, "market_clerk")
    first = clerk.get("/staff/inbox?view=group&per_page=2")
    assert rows(first) == made[:2] and "第 1 页，共 3 页" in main_text(first)
    assert 'rel="next"' in first.get_data(as_text=True)
    assert rows(clerk.get("/staff/inbox?view=group&per_page=2&page=3")) == made[4:]
    assert rows(clerk.get("/staff/inbox?view=group&per_page=2&page=99")) == made[4:]  # clamped to the last


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh", ["我的待办", "部门待认领", "即将到期", "已超期", "我已办", "受理编号", "认领所选"]),
    ("en", ["Assigned to me", "To claim in my department", "Due soon", "Overdue", "Done by me",
            "Case number", "Claim selected"]),
])
def test_inbox_in_both_languages(app, api, lang, expected):
    food(api)
    page = Browser(app, "market_clerk", lang=lang).get("/staff/inbox")
    shown = main_text(page)
    for label in expected:
        assert label in shown, label
    assert ("Assigned to me" in shown) == (lang == "en")
    assert "<title>" in page.get_data(as_text=True)


def test_untranslated_strings_do_not_show_on_chinese_pages(app, api):
    case_no = food(api)
    clerk = Browser(app, "market_clerk")
    for url in ("/staff/inbox", "/staff/inbox?view=done", f"/staff/tasks/{_task(api, case_no)}", f"/staff/cases/{case_no}"):
        shown = main_text(clerk.get(url))
        words = set(re.findall(r"[A-Za-z]{4,}", shown))
        # item codes, process keys and group names are codes, not prose
        assert words <= {"food", "licence", "market", "clerk", "SCJG", "SPJY"}, (url, words)


def test_heads_see_their_department_and_others_do_not(app, api):
    food(api)
    head = Browser(app, "market_head")
    page = head.get("/staff/inbox?view=department")
    assert page.status_code == 200 and len(rows(page)) == 1 and "本部门在办" in main_text(page)
    assert "改派给" in main_text(page)  # the head can give the task to a colleague from here
    clerk = Browser(app, "market_clerk")
    assert clerk.get("/staff/inbox?view=department").status_code == 403
    assert "本部门在办" not in main_text(clerk.get("/staff/inbox"))


def test_who_may_open_the_inbox(app, api):
    assert app.test_client().get("/staff/inbox").status_code == 302  # to the login page
    assert Browser(app, "company").get("/staff/inbox").status_code == 403
    assert Browser(app, "market_clerk").get("/staff/inbox?view=everything").status_code == 400


def test_supervisors_watch_every_deadline(app, api, clock):
    case_no = food(api)
    clock.advance(timedelta(days=3))
    page = Browser(app, "supervisor").get("/staff/inbox?view=overdue")
    assert rows(page) == [case_no] and count(page, "overdue") == 1
    body = text(page).split("<tbody>")[1].split("</tbody>")[0]
    assert "/claim" not in body and 'name="task_ids"' not in body  # nothing offered to claim


def current_tab(resp):
    body = resp.get_data(as_text=True)
    match = re.search(r'aria-current="page">\s*([^<]+?)\s*<span class="count"', body)
    return match.group(1) if match else None


def food_in(ctx):
    from app.services.casework.cases import create_case

    return create_case(ctx, authenticate(ctx, "company", "demo1234"), FOOD, FOOD_APPLY)["case_no"]


def _task(api, case_no, key="preview"):
    from tests.e2e.flows import task_id

    return task_id(api, case_no, key)


@pytest.mark.parametrize("view", ["overdue", "due_soon"])
def test_dated_views_read_the_same_whether_walking_the_due_index_or_not(api, demo, clock, monkeypatch, view):
    made = []
    for _ in range(4):
        made.append(food(api))
        clock.advance(timedelta(hours=5))
    complete(api, made[0], "preview", "market_clerk", PASS)  # its acceptance step is due a day later
    clerk = authenticate(demo, "market_clerk", "demo1234")
    from app.services.casework.tasks import claim_task

    claim_task(demo, clerk, _task(api, made[1]))  # mine now, no longer the group's
    apply(api, JOINT, JOINT_APPLY, user="builder")  # housing's: in the date range, never in my views
    clock.set(START + timedelta(days=3) if view == "overdue" else START + timedelta(hours=20))
    walks = []
    real_walks = service._walks
    monkeypatch.setattr(service, "_walks", lambda *a: walks.append(real_walks(*a)) or walks[-1])

    def read(walk_limit, **query):
        monkeypatch.setattr(service, "WALK_LIMIT", walk_limit)
        page = service.inbox(demo, clerk, service.InboxQuery(view=view, **query))
        return [(r.case_no, r.task_key, r.mine, r.claimable) for r in page.rows], page.counts

    for query in ({}, {"sort": "-deadline"}, {"per_page": 2, "page": 2}, {"item": FOOD}):
        walked = read(10**9, **query)  # walks the due-date index (on SQLite)
        assert walked == read(0, **query), query  # collects and sorts
        assert walked[1][view] == 4
    assert walks == ([True, False] * 4 if demo.db.is_sqlite else [])
    rows_, _ = read(10**9)
    assert sorted(r[0] for r in rows_) == sorted(made) and [r[2] for r in rows_].count(True) == 1
    assert [r[3] for r in rows_].count(True) == 3


def test_searches_find_the_same_through_found_cases_or_row_by_row(api, demo, monkeypatch):
    mine, theirs = food(api), food(api, user="citizen")
    complete(api, mine, "preview", "market_clerk", PASS)
    clerk = authenticate(demo, "market_clerk", "demo1234")

    def read(found_limit, view, q):
        monkeypatch.setattr(inbox_search, "FOUND_LIMIT", found_limit)
        page = service.inbox(demo, clerk, service.InboxQuery(view=view, q=q))
        return [r.case_no for r in page.rows], page.counts

    for q in (mine, theirs[:-2], "李娜", "江城味道", "market_clerk", "%"):
        for view in ("group", "done"):
            assert read(FOUND_MANY, view, q) == read(-1, view, q), (view, q)  # by found cases; row by row
    assert read(FOUND_MANY, "done", mine) == ([mine], read(FOUND_MANY, "done", mine)[1])
    assert read(FOUND_MANY, "group", "李娜")[0] == [theirs]


FOUND_MANY = 10**9


@pytest.mark.parametrize("username", ["market_head", "market_clerk", "supervisor"])
def test_each_count_is_the_number_of_rows_its_view_shows(api, demo, clock, username):
    cases = [food(api) for _ in range(3)]
    complete(api, cases[0], "preview", "market_clerk", PASS)
    from app.services.casework.tasks import claim_task

    claim_task(demo, authenticate(demo, "market_clerk", "demo1234"), _task(api, cases[1]))
    apply(api, JOINT, JOINT_APPLY, user="builder")
    clock.advance(timedelta(days=2))
    me = authenticate(demo, username, "demo1234")
    counts = service.inbox(demo, me, service.InboxQuery(view="group")).counts
    expected = {"market_head": [0, 0, 0, 3],  # the department's tasks are not offered to the head
                "market_clerk": [1, 2, 3, 0], "supervisor": [0, 0, 4, 0]}[username]
    assert [counts[v] for v in ("mine", "group", "overdue", "department")] == expected
    for view in ("mine", "group", "due_soon", "overdue") + (("department",) if service.is_head(me) else ()):
        assert counts[view] == len(service.inbox(demo, me, service.InboxQuery(view=view)).rows), view
