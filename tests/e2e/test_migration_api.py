"""Migrating running cases to another process version through the API (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.models import AuditEntry, Case, EngineTimer, HumanTask
from app.services.casework.timers import fire_due_timers
from tests.bpmn_builder import linear, user

from .flows import apply, case, complete, open_keys

pytestmark = pytest.mark.usefixtures("demo")

KEY = "mig"
FIRST = user("first", group="market.clerk", name="初审")
SECOND = user("second", group="market.approver", name="审批")
ADDED = user("added", group="market.head", name="复核")
V1 = linear(KEY, FIRST, SECOND)
V2_ADDS = linear(KEY, FIRST, ADDED, SECOND)            # a step after the open one
V2_REMOVES = linear(KEY, SECOND)                        # the open step is gone
V2_RENAMES = linear(KEY, user("first", group="market.clerk2", name="初审（新）"), SECOND)
TIMER = """<bpmn:boundaryEvent id="deadline" attachedToRef="first" cancelActivity="true">
  <bpmn:outgoing>late</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:endEvent id="timed_out" name="逾期撤回"><bpmn:extensionElements><camunda:properties>
  <camunda:property name="status" value="withdrawn"/></camunda:properties></bpmn:extensionElements>
  <bpmn:incoming>late</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="late" sourceRef="deadline" targetRef="timed_out"/>
</bpmn:process>"""
V2_TIMER = V1.replace(b"</bpmn:process>", TIMER.encode())


def deploy(api: Any, content: bytes) -> int:
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(content), f"{KEY}.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code in (200, 201), resp.get_json()
    version: int = resp.get_json()["version"]
    return version


@pytest.fixture
def item(api: Any) -> str:
    deploy(api, V1)
    body = {"code": "MIG-1", "name": "迁移测试", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": KEY, "case_prefix": "MG"}
    assert api.post("/items", "admin", json=body).status_code == 201
    return "MIG-1"


def start(api: Any, item: str) -> str:
    case_no: str = apply(api, item, {})["case_no"]
    return case_no


def preview(api: Any, user: str = "designer", **body: Any) -> Any:
    return api.post(f"/process-definitions/{KEY}/migrations/preview", user, json={"from_version": 1, **body})


def migrate(api: Any, user: str = "designer", **body: Any) -> Any:
    return api.post(f"/process-definitions/{KEY}/migrations", user, json={"from_version": 1, **body})


def state_of(ctx: Any, case_no: str) -> str:
    with ctx.uow() as uow:
        state: str = uow.session.scalar(select(Case.engine_state).where(Case.case_no == case_no))
        return state


def test_a_case_moves_to_a_version_with_a_step_added_and_goes_on_there(api, ctx, item):
    case_no = start(api, item)
    assert deploy(api, V2_ADDS) == 2

    shown = preview(api, to_version=2, cases=[case_no])
    assert shown.status_code == 200, shown.get_json()
    [planned] = shown.get_json()["cases"]
    assert planned["migratable"] and planned["reason"] is None
    assert [(t["task_key"], t["target"], t["maps"]) for t in planned["tasks"]] == [("first", "first", True)]
    assert case(api, case_no)["process_version"] == 1  # a preview changes nothing

    done = migrate(api, to_version=2, cases=[case_no])
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["migrated"] == 1 and body["cases"][0]["migrated"] and body["cases"][0]["open_tasks"] == ["first"]
    view = case(api, case_no)
    assert view["process_version"] == 2 and [t["task_key"] for t in view["tasks"]] == ["first"]
    moved = [e for e in view["history"] if e["action"] == "migrated"]
    assert len(moved) == 1 and moved[0]["actor"] == "designer" and "v1 -> v2" in moved[0]["message"]
    assert moved[0]["data_before"]["version"] == 1 and moved[0]["data_after"]["version"] == 2

    complete(api, case_no, "first", "market_clerk", {})
    assert open_keys(api, case_no) == ["added"]  # the step v2 added
    complete(api, case_no, "added", "market_head", {})
    complete(api, case_no, "second", "market_approver", {})
    assert case(api, case_no)["status"] == "closed"

    with ctx.uow() as uow:
        entries = [(e.object_type, e.object_id, e.actor_name, e.before["version"], e.after["version"]) for e in
                   uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "process.migrate"))]
    assert entries == [("migration", case_no, "designer", 1, 2)]


def test_a_version_without_the_open_step_leaves_the_case_unchanged_with_the_reason(api, ctx, item):
    case_no = start(api, item)
    assert deploy(api, V2_REMOVES) == 2
    before = state_of(ctx, case_no)

    [planned] = preview(api, to_version=2).get_json()["cases"]
    assert not planned["migratable"] and "removed" in planned["reason"]
    assert [(t["task_key"], t["maps"]) for t in planned["tasks"]] == [("first", False)]

    done = migrate(api, to_version=2)
    assert done.status_code == 200
    [outcome] = done.get_json()["cases"]
    assert outcome["case_no"] == case_no and not outcome["migrated"] and "removed" in outcome["reason"]
    view = case(api, case_no)
    assert view["process_version"] == 1 and [t["task_key"] for t in view["tasks"]] == ["first"]
    assert not [e for e in view["history"] if e["action"] == "migrated"]
    assert state_of(ctx, case_no) == before
    with ctx.uow() as uow:
        assert uow.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "process.migrate")) is None
    complete(api, case_no, "first", "market_clerk", {})  # it runs on v1 as before
    assert open_keys(api, case_no) == ["second"]


def test_a_selection_moves_only_the_cases_named_and_all_takes_the_rest(api, item):
    cases = [start(api, item) for _ in range(3)]
    deploy(api, V2_ADDS)
    assert [c["case_no"] for c in preview(api, to_version=2).get_json()["cases"]] == cases

    done = migrate(api, to_version=2, cases=[cases[1]]).get_json()
    assert [(c["case_no"], c["migrated"]) for c in done["cases"]] == [(cases[1], True)]
    assert [case(api, c)["process_version"] for c in cases] == [1, 2, 1]

    rest = migrate(api, to_version=2).get_json()  # all running cases of v1: the other two
    assert [(c["case_no"], c["migrated"]) for c in rest["cases"]] == [(cases[0], True), (cases[2], True)]
    assert [case(api, c)["process_version"] for c in cases] == [2, 2, 2]


def test_cases_not_on_the_version_or_finished_are_refused_with_a_reason(api, item):
    running, moved, finished = start(api, item), start(api, item), start(api, item)
    complete(api, finished, "first", "market_clerk", {})
    complete(api, finished, "second", "market_approver", {})
    deploy(api, V2_ADDS)
    migrate(api, to_version=2, cases=[moved])
    outcomes = migrate(api, to_version=2, cases=[moved, finished, "NOPE-1", running]).get_json()["cases"]
    assert [(o["case_no"], o["migrated"]) for o in outcomes] == [
        (moved, False), (finished, False), ("NOPE-1", False), (running, True)]
    assert "version 1" in outcomes[0]["reason"] and "finished" in outcomes[1]["reason"]
    assert "no such case" in outcomes[2]["reason"]
    assert case(api, finished)["status"] == "closed" and case(api, finished)["process_version"] == 1


@pytest.mark.parametrize("who", ["market_clerk", "market_approver", "company", "supervisor"])
def test_only_designers_and_admins_may_migrate(api, item, who):
    case_no = start(api, item)
    deploy(api, V2_ADDS)
    assert preview(api, who, to_version=2).status_code == 403
    assert migrate(api, who, to_version=2).status_code == 403
    assert case(api, case_no)["process_version"] == 1
    assert migrate(api, "admin", to_version=2).get_json()["migrated"] == 1


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    (KEY, {"from_version": 1, "to_version": 9}, 400, "to_version"),
    (KEY, {"from_version": 7, "to_version": 2}, 400, "from_version"),
    (KEY, {"from_version": 1, "to_version": 1}, 400, "to_version"),
    (KEY, {"from_version": 1, "to_version": "2"}, 400, "to_version"),
    (KEY, {"from_version": 1, "to_version": 0}, 400, "to_version"),
    (KEY, {"from_version": 1}, 400, "to_version"),
    (KEY, {"from_version": 1, "to_version": 2, "cases": []}, 400, "cases"),
    (KEY, {"from_version": 1, "to_version": 2, "cases": [""]}, 400, "cases.0"),
    (KEY, {"from_version": 1, "to_version": 2, "extra": 1}, 400, "extra"),
    ("nothing", {"from_version": 1, "to_version": 2}, 404, None),
])
def test_bad_input_is_a_4xx_naming_the_field_and_changes_nothing(api, item, path, body, status, field):
    case_no = start(api, item)
    deploy(api, V2_ADDS)
    for url in (f"/process-definitions/{path}/migrations/preview", f"/process-definitions/{path}/migrations"):
        resp = api.post(url, "designer", json=body)
        assert resp.status_code == status, resp.get_json()
        if field:
            assert field in [e.get("field") for e in resp.get_json()["errors"]]
    assert api.post(f"/process-definitions/{KEY}/migrations", "designer", data="[1]",
                    content_type="application/json").status_code == 400
    assert case(api, case_no)["process_version"] == 1


def test_a_renamed_open_step_is_shown_with_its_new_name_and_candidates(api, ctx, item):
    case_no = start(api, item)
    deploy(api, V2_RENAMES)
    assert migrate(api, to_version=2).get_json()["migrated"] == 1
    [task] = case(api, case_no)["tasks"]
    assert task["task_key"] == "first" and task["name"] == "初审（新）"
    with ctx.uow() as uow:
        groups = uow.session.scalar(select(HumanTask.candidate_groups).where(HumanTask.task_key == "first"))
    assert groups == ["market.clerk2"]


def test_a_boundary_timer_added_in_the_target_waits_from_the_migration_on(api, ctx, clock, item):
    case_no = start(api, item)
    [task_before] = case(api, case_no)["tasks"]
    deploy(api, V2_TIMER)
    [planned] = preview(api, to_version=2).get_json()["cases"]
    assert planned["migratable"] and "deadline" in planned["tasks"][0]["note"]
    clock.advance(timedelta(days=1))
    assert migrate(api, to_version=2).get_json()["migrated"] == 1

    [task_after] = case(api, case_no)["tasks"]
    assert task_after["id"] == task_before["id"]  # the same open step, still in the same inboxes
    with ctx.uow() as uow:
        timers = uow.session.execute(select(EngineTimer.task_key, EngineTimer.due_at)).all()
    assert timers == [("deadline", clock.now() + timedelta(days=5))]  # counted from the migration

    clock.advance(timedelta(days=5, minutes=1))
    assert fire_due_timers(ctx) == 1
    view = case(api, case_no)
    assert view["status"] == "withdrawn" and view["tasks"] == []


def test_a_step_waiting_inside_boundary_events_the_target_removed_stays_where_it_is(api, ctx, item):
    deploy(api, V2_TIMER)
    ctx_case = start(api, item)  # the item takes the latest version: this case runs on the timer version
    assert case(api, ctx_case)["process_version"] == 2
    deploy(api, V2_ADDS)  # v3: no timer, no boundary event
    resp = api.post(f"/process-definitions/{KEY}/migrations", "designer",
                    json={"from_version": 2, "to_version": 3})
    [outcome] = resp.get_json()["cases"]
    # The open step waits inside its boundary structure, which v3 no longer has: it stays on v2.
    assert not outcome["migrated"] and "boundary" in outcome["reason"]
    with ctx.uow() as uow:
        assert uow.session.scalar(select(EngineTimer.task_key)) == "deadline"


def test_a_case_past_a_step_the_target_removed_moves_and_goes_on(api, item):
    case_no = start(api, item)
    complete(api, case_no, "first", "market_clerk", {})
    deploy(api, V2_REMOVES)  # v2 has no "first": the case has passed it already
    [planned] = preview(api, to_version=2).get_json()["cases"]
    assert planned["migratable"] and [t["task_key"] for t in planned["tasks"]] == ["second"]
    assert migrate(api, to_version=2).get_json()["migrated"] == 1
    assert case(api, case_no)["process_version"] == 2
    complete(api, case_no, "second", "market_approver", {})
    assert case(api, case_no)["status"] == "closed"


def test_reference_cases_move_at_a_step_and_inside_a_call_activity_then_finish(api, ctx):
    from .flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, ISSUE, PASS

    at_review = apply(api, FOOD, FOOD_APPLY)["case_no"]
    for case_no in (at_review,):
        complete(api, case_no, "preview", "market_clerk", PASS)
        complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    at_issuance = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, at_issuance, "preview", "market_clerk", PASS)
    complete(api, at_issuance, "acceptance", "market_clerk", ACCEPT)
    complete(api, at_issuance, "review", "market_approver", APPROVE)
    complete(api, at_issuance, "decision", "market_head", GRANT)
    assert open_keys(api, at_issuance) == ["issue_licence"]  # inside the issuance call activity

    v1 = (ctx.bpmn_dir / "food_licence.bpmn").read_bytes()
    v2 = v1.replace('name="审查"'.encode(), 'name="实质审查"'.encode())
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(v2), "food_licence.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201 and resp.get_json()["version"] == 2
    done = api.post("/process-definitions/food_licence/migrations", "designer",
                    json={"from_version": 1, "to_version": 2}).get_json()
    assert [(c["case_no"], c["migrated"]) for c in done["cases"]] == [(at_review, True), (at_issuance, True)], done

    assert [t["name"] for t in case(api, at_review)["tasks"]] == ["实质审查"]
    complete(api, at_review, "review", "market_approver", APPROVE)
    complete(api, at_review, "decision", "market_head", GRANT)
    for n, case_no in enumerate((at_review, at_issuance)):
        issue = {**ISSUE, "licence_no": f"{ISSUE['licence_no'][:-1]}{n + 2}"}  # licence numbers are unique
        assert complete(api, case_no, "issue_licence", "center_clerk", issue)["status"] == "issued"
        assert case(api, case_no)["process_version"] == 2


# -- the page (/design/processes/<key>/migrate) ------------------------------------------------------------
def page_client(app: Any, who: str) -> Any:
    from tests.web.signin import sign_in

    client = sign_in(app.test_client(), who)
    client.get("/lang/en")  # the assertions read the English texts
    return client


def page_post(client: Any, **form: Any) -> Any:
    from tests.web.signin import csrf_token

    token = csrf_token(client, f"/design/processes/{KEY}/migrate?from=1")
    return client.post(f"/design/processes/{KEY}/migrate", data={"csrf_token": token, **form})


def test_the_page_previews_and_migrates_the_cases_ticked(app, api, item):
    cases = [start(api, item) for _ in range(2)]
    deploy(api, V2_ADDS)
    client = page_client(app, "designer")
    listing = client.get(f"/design/processes/{KEY}/migrate?from=1").get_data(as_text=True)
    assert all(c in listing for c in cases) and 'value="2" selected' in listing  # the latest is the default target

    shown = page_post(client, **{"from": "1", "to": "2", "scope": "selected", "cases": [cases[0]], "action": "preview"})
    assert shown.status_code == 200 and "1 of 1 case(s) can move" in shown.get_data(as_text=True)
    assert case(api, cases[0])["process_version"] == 1

    done = page_post(client, **{"from": "1", "to": "2", "scope": "selected", "cases": [cases[0]], "action": "migrate"})
    assert done.status_code == 200 and "1 of 1 case(s) migrated" in done.get_data(as_text=True)
    assert [case(api, c)["process_version"] for c in cases] == [2, 1]


def test_the_page_says_why_a_case_stays_and_refuses_bad_input_readably(app, api, item):
    case_no = start(api, item)
    deploy(api, V2_REMOVES)
    client = page_client(app, "designer")
    done = page_post(client, **{"from": "1", "to": "2", "scope": "all", "action": "migrate"}).get_data(as_text=True)
    assert "0 of 1 case(s) migrated" in done and "left unchanged" in done and "removed in the target version" in done

    for form, message in ((({"from": "1", "to": "1", "scope": "all", "action": "migrate"}), "choose a different"),
                          ({"from": "1", "to": "2", "scope": "selected", "action": "migrate"}, "Tick at least one"),
                          ({"from": "x", "to": "2", "scope": "all", "action": "preview"}, "Choose the version"),
                          ({"from": "1", "to": "2", "scope": "all", "action": "explode"}, "Choose the version")):
        resp = page_post(client, **form)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), form
    assert case(api, case_no)["process_version"] == 1


@pytest.mark.parametrize("who", ["market_clerk", "company"])
def test_the_page_is_for_designers_and_admins(app, item, who):
    resp = page_client(app, who).get(f"/design/processes/{KEY}/migrate?from=1")
    assert resp.status_code == 403
    assert page_client(app, "admin").get(f"/design/processes/{KEY}/migrate?from=1").status_code == 200
    assert page_client(app, "admin").get("/design/processes/nothing/migrate").status_code == 404


def test_a_parallel_approval_with_an_extension_request_moves_and_every_department_keeps_its_task(api, ctx):
    from .flows import DEPARTMENTS, approval, joint_to_approval

    case_no = joint_to_approval(api)
    complete(api, case_no, "dept_approval", "fire_approver", approval(), department="fire")
    asked = api.post(f"/cases/{case_no}/extensions", "housing_approver", json={"reason": "需组织专家评审"})
    assert asked.status_code == 201, asked.get_json()
    before = {(t["task_key"], t["department"]) for t in case(api, case_no)["tasks"]}
    assert ("dept_approval", "health") in before and ("dept_approval", "planning") in before
    assert "approve_extension" in {k for k, _ in before}  # inside the event subprocess

    v1 = (ctx.bpmn_dir / "construction_permit.bpmn").read_bytes()
    v2 = v1.replace('name="并联审批"'.encode(), 'name="并联审批（会签）"'.encode())
    assert v2 != v1
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(v2), "construction_permit.bpmn")},
                    content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    done = api.post("/process-definitions/construction_permit/migrations", "designer",
                    json={"from_version": 1, "to_version": 2, "cases": [case_no]}).get_json()
    assert done["migrated"] == 1, done

    view = case(api, case_no)
    assert {(t["task_key"], t["department"]) for t in view["tasks"]} == before
    assert {t["name"] for t in view["tasks"] if t["task_key"] == "dept_approval"} == {"并联审批（会签）"}
    for department in DEPARTMENTS[1:]:  # the others approve on v2, each on its own instance
        complete(api, case_no, "dept_approval", f"{department}_approver", approval(), department=department)
    view = case(api, case_no)
    assert sorted(a["department"] for a in view["data"]["approvals"]) == sorted(DEPARTMENTS)
    assert "decision" in [t["task_key"] for t in view["tasks"]]


def test_a_failing_expression_in_the_target_leaves_that_case_unchanged_and_the_others_move(api, ctx, item):
    cases = [start(api, item) for _ in range(2)]
    complete(api, cases[1], "first", "market_clerk", {})  # at "second": the broken timer is not on its way
    broken = V2_TIMER.replace(b'"P5D"', b"no_such_variable")
    deploy(api, broken)
    before = state_of(ctx, cases[0])
    outcomes = migrate(api, to_version=2).get_json()["cases"]
    assert [(o["case_no"], o["migrated"]) for o in outcomes] == [(cases[0], False), (cases[1], True)]
    assert "unchanged" in outcomes[0]["reason"] and "no_such_variable" in outcomes[0]["reason"]
    assert state_of(ctx, cases[0]) == before and case(api, cases[0])["process_version"] == 1
    with ctx.uow() as uow:
        assert uow.session.scalar(select(EngineTimer.id)) is None


def test_a_waiting_timer_the_target_keeps_keeps_its_due_time(api, ctx, clock, item):
    deploy(api, V2_TIMER)  # v2: new cases wait with a 5-day timer
    case_no = start(api, item)
    with ctx.uow() as uow:
        due = uow.session.scalar(select(EngineTimer.due_at))
    deploy(api, V2_TIMER.replace('name="初审"'.encode(), 'name="初审（新）"'.encode()))  # v3: a new name only
    clock.advance(timedelta(days=2))
    done = api.post(f"/process-definitions/{KEY}/migrations", "designer", json={"from_version": 2, "to_version": 3})
    assert done.get_json()["migrated"] == 1, done.get_json()
    with ctx.uow() as uow:
        assert uow.session.execute(select(EngineTimer.task_key, EngineTimer.due_at)).all() == [("deadline", due)]
    assert [t["name"] for t in case(api, case_no)["tasks"]] == ["初审（新）"]
