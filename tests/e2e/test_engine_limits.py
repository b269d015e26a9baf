"""Designer code that escaped the in-process sandbox, driven as a user would: a designer deploys a small
process through the API, an applicant applies, a clerk completes the task. The step fails with 422 and
an incident on the case, which stays at its last state; other requests go on meanwhile."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.bpmn_builder import linear, script, user
from tests.conftest import PG_SKIP, PG_URL, Api, demo_app, pg_schema_url

from .flows import apply, case, task_id

EXTEND = "a = [1]\na.extend(map(abs, a))"
SORTED = "L = [0] * 1000000\nn = [" + ", ".join(["len(sorted(L))"] * 600) + "]"
LIMIT = 0.5  # TestConfig.SCRIPT_TIME_LIMIT


def deploy(api: Api, content: bytes, name: str = "limits.bpmn") -> Any:
    return api.post("/process-definitions", "designer", data={"file": (io.BytesIO(content), name)},
                    content_type="multipart/form-data")


def item_running(api: Api, code: str, key: str = "limits", before: str = "y = 1") -> str:
    """Deploy start -> script `prepare` -> user task `work` -> script `bad` -> user task `after`, and an item."""
    bpmn = linear(key, script("prepare", before), user("work", group="market.clerk"), script("bad", code),
                  user("after", group="market.clerk"))
    resp = deploy(api, bpmn, f"{key}.bpmn")
    assert resp.status_code == 201, resp.get_json()
    body = {"code": "LIMITS-1", "name": "限制测试", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": key, "case_prefix": "LM"}
    assert api.post("/items", "admin", json=body).status_code == 201
    return "LIMITS-1"


def complete_work(api: Api, case_no: str) -> Any:
    return api.post(f"/tasks/{task_id(api, case_no, 'work')}/complete", "market_clerk", json={"data": {}})


def assert_failed_and_unchanged(api: Api, case_no: str, before: dict[str, Any], resp: Any, needle: str) -> str:
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["errors"][0]["element_id"] == "bad"
    after = case(api, case_no)
    assert (after["tasks"], after["version"], after["status"]) == (before["tasks"], before["version"], before["status"])
    [incident] = after["incidents"]
    assert incident["element_id"] == "bad" and needle in incident["message"], incident
    return str(incident["message"])


@pytest.fixture
def roomy(request: pytest.FixtureRequest, db_url: str, clock) -> Iterator[Api]:
    """An app whose memory limit (64 MB) is always reached long before its time limit (10 s), however busy
    the machine: the memory cases then end one way only."""
    from app.services.demo import load_demo
    from tests.conftest import build_app, wipe

    app = build_app(db_url, clock, SCRIPT_MEMORY_LIMIT_MB=64, SCRIPT_TIME_LIMIT=10)
    load_demo(app.extensions["banjian"])
    try:
        yield Api(app.test_client())
    finally:
        wipe(app)


@pytest.mark.parametrize("code", [EXTEND, "a = [1]\na += map(abs, a)"], ids=["extend-map", "iadd-map"])
def test_a_step_that_grows_without_end_is_stopped_by_the_memory_limit(roomy, code):
    """`a.extend(map(abs, a))` ran 11 s against a 1 s limit and grew the server to 3 GB."""
    api = roomy
    case_no = apply(api, item_running(api, code), {})["case_no"]
    before = case(api, case_no)
    start = time.monotonic()
    resp = complete_work(api, case_no)
    assert time.monotonic() - start < 10
    assert_failed_and_unchanged(api, case_no, before, resp, "more than 64 MB")
    assert apply(api, "LIMITS-1", {})["status"] == before["status"]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("code", "needle"), [
    (SORTED, f"longer than {LIMIT:g} s"),         # 54 s
    ("d = add_workdays(date(1, 1, 2), 3000000)", "between 1900-01-01 and 2200-12-31"),  # 27 s, then a 500
    ("d = [" + ", ".join(["add_workdays(date(2100, 1, 2), 300000)"] * 5) + "]", "between 0 and 3650"),        # 13 s
], ids=["sorted-line", "workdays-far-past", "workdays-many"])
def test_a_step_that_escaped_the_sandbox_fails_with_an_incident(api, code, needle):
    case_no = apply(api, item_running(api, code), {})["case_no"]
    before = case(api, case_no)
    start = time.monotonic()
    resp = complete_work(api, case_no)
    assert time.monotonic() - start < LIMIT + 5
    assert_failed_and_unchanged(api, case_no, before, resp, needle)
    # the case can be worked on again as soon as the process is fixed; other cases are not affected
    assert apply(api, "LIMITS-1", {})["status"] == before["status"]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(("code", "kind"), [
    ("g = (i for i in [1])", "a generator"),
    ("g = range(3)", "a range"),
    ("g = b'x'", "a bytes"),
    ("g = 1j", "a complex"),
    ("g = map(abs, [1])", "a map"),
    ("g = ValueError('no')", "a ValueError"),
    ("g = []\nfor i in range(50000):\n    g = [g]", "nested more than 100 levels"),
])
def test_data_that_cannot_be_stored_fails_with_an_incident_naming_it(api, code, kind):
    case_no = apply(api, item_running(api, code), {})["case_no"]
    before = case(api, case_no)
    message = assert_failed_and_unchanged(api, case_no, before, complete_work(api, case_no), kind)
    assert "'g'" in message


@pytest.mark.usefixtures("demo")
def test_a_timedelta_in_the_data_is_stored(api):
    case_no = apply(api, item_running(api, "d = timedelta(days=2, microseconds=5)"), {})["case_no"]
    assert complete_work(api, case_no).status_code == 200
    assert [t["task_key"] for t in case(api, case_no, "company")["tasks"]] == ["after"]


@pytest.mark.usefixtures("demo")
def test_a_timedelta_in_the_data_shows_on_the_staff_case_view(api):
    case_no = apply(api, item_running(api, "d = timedelta(days=2, hours=3)"), {})["case_no"]
    assert complete_work(api, case_no).status_code == 200
    view = api.get(f"/cases/{case_no}", "admin")
    assert view.status_code == 200 and view.get_json()["data"]["d"] == "P2DT3H"


def multi_instance(key: str, cardinality: str) -> bytes:
    xml = linear(key, script("prepare", "n = 50000"), user("each", group="market.clerk"))
    loop = (f'<bpmn:multiInstanceLoopCharacteristics isSequential="false"><bpmn:loopCardinality>{cardinality}'
            '</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>')
    return xml.replace(b"</bpmn:userTask>", loop.encode() + b"</bpmn:userTask>", 1)


@pytest.mark.usefixtures("demo")
def test_a_literal_loop_cardinality_above_the_cap_is_refused_at_deploy(api):
    resp = deploy(api, multi_instance("many", "50000"), "many.bpmn")
    assert resp.status_code == 400
    assert resp.get_json()["errors"] == [{"element_id": "each", "message": "loopCardinality 50000 is above the "
                                          "limit of 200 instances of a multi-instance task"}]


def test_the_deploy_check_follows_the_configured_cap(clock):
    from app.services.demo import load_demo
    from tests.conftest import build_app, wipe

    app = build_app("sqlite://", clock, MAX_LOOP_INSTANCES=10)
    try:
        load_demo(app.extensions["banjian"])
        resp = deploy(Api(app.test_client()), multi_instance("many", "11"), "many.bpmn")
        assert resp.status_code == 400
        assert resp.get_json()["errors"] == [{"element_id": "each", "message": "loopCardinality 11 is above the "
                                              "limit of 10 instances of a multi-instance task"}]
    finally:
        wipe(app)


@pytest.mark.usefixtures("demo")
def test_an_evaluated_loop_cardinality_above_the_cap_fails_at_run_time(api):
    assert deploy(api, multi_instance("many", "n"), "many.bpmn").status_code == 201
    body = {"code": "MANY-1", "name": "多实例", "type_code": "20", "department": "market",
            "case_kind": "promised", "promised_limit": 5, "process_key": "many", "case_prefix": "MY"}
    assert api.post("/items", "admin", json=body).status_code == 201
    start = time.monotonic()
    resp = api.post("/cases", "company", json={"item_code": "MANY-1", "data": {}})
    assert time.monotonic() - start < 10  # 50 000 tasks were created in one request before
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["element_id"] == "each"
    assert "more than 200 instances" in resp.get_json()["errors"][0]["message"]


# -- other requests go on --------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite-file", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_app(request: pytest.FixtureRequest, tmp_path: Any, clock: Any) -> Iterator[Flask]:
    """An app on a database that two threads can use at once (not an in-memory one)."""
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip(PG_SKIP)
        url = pg_schema_url()
    else:
        url = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    with demo_app(url, clock) as app:
        yield app


def test_a_runaway_step_does_not_hold_up_other_requests(shared_app):
    api, other = Api(shared_app.test_client()), Api(shared_app.test_client())
    case_no = apply(api, item_running(api, SORTED), {})["case_no"]
    other.get("/items", "admin")  # signed in before the race
    responses: list[Any] = []
    runaway = threading.Thread(target=lambda: responses.append(complete_work(api, case_no)))
    runaway.start()
    timings: list[float] = []
    while runaway.is_alive() or not timings:
        start = time.monotonic()
        assert other.get("/items", "admin").status_code == 200
        timings.append(time.monotonic() - start)
    runaway.join()
    assert responses[0].status_code == 422
    # the runaway step took about a second; these did not wait for it
    assert len(timings) >= 3 and sorted(timings)[len(timings) // 2] < 0.3, timings
