"""The command line: users, BPMN deploy and lint, demo data. Errors: non-zero exit and one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bpmn_builder import linear, user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_users_create_and_duplicate(cli):
    ok = cli.invoke(args=["users", "create", "alice", "--password", "secret123", "--role", "approver",
                          "--group", "market.approver", "--group", "newdept.clerk", "--full-name", "艾丽斯"])
    assert ok.exit_code == 0, ok.output
    assert "market.approver" in ok.output and "newdept.clerk" in ok.output
    again = cli.invoke(args=["users", "create", "alice", "--password", "secret123", "--role", "clerk"])
    assert again.exit_code == 1
    assert again.output.strip().splitlines() == ["Error: user 'alice' already exists (username: taken)"]
    short = cli.invoke(args=["users", "create", "bob", "--password", "x", "--role", "clerk"])
    assert short.exit_code == 1 and "password" in short.output
    bad_role = cli.invoke(args=["users", "create", "bob", "--password", "secret123", "--role", "king"])
    assert bad_role.exit_code != 0


def test_bpmn_deploy_deploys_changed_files_only(cli, tmp_path):
    first = cli.invoke(args=["bpmn", "deploy", str(ROOT / "bpmn")])
    assert first.exit_code == 0, first.output
    lines = first.output.strip().splitlines()
    keys = [line.split()[0] for line in lines]
    assert sorted(keys) == ["construction_permit", "food_licence", "food_licence_cancellation", "food_licence_change",
                            "food_licence_reissue", "food_licence_renewal", "issuance", "rating_rectification"]
    assert keys.index("issuance") < min(keys.index("food_licence"), keys.index("construction_permit"))
    assert all(" v1 deployed " in line for line in lines)
    second = cli.invoke(args=["bpmn", "deploy", str(ROOT / "bpmn")])
    assert all(" unchanged " in line for line in second.output.strip().splitlines()), second.output
    changed = tmp_path / "issuance.bpmn"
    original = (ROOT / "bpmn" / "issuance.bpmn").read_text(encoding="utf-8")
    changed.write_text(original.replace('name="发证"', 'name="发证（新）"'), encoding="utf-8")
    third = cli.invoke(args=["bpmn", "deploy", str(changed)])
    assert third.output.startswith("issuance v2 deployed"), third.output


def test_bpmn_lint_reports_elements_and_exit_status(cli, tmp_path):
    good = cli.invoke(args=["bpmn", "lint", str(ROOT / "bpmn")])
    assert good.exit_code == 0, good.output
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(linear("p", user("nobody", group=None)))
    result = cli.invoke(args=["bpmn", "lint", str(bad)])
    assert result.exit_code == 1
    assert "nobody: user task has no candidateGroups" in result.output
    missing = cli.invoke(args=["bpmn", "deploy", str(tmp_path / "none.bpmn")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    refused = cli.invoke(args=["bpmn", "deploy", str(bad)])
    assert refused.exit_code == 1 and "nobody" in refused.output and len(refused.output.strip().splitlines()) == 1


def test_demo_load_is_idempotent(cli, api):
    first = cli.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "19 users" in first.output and "7 items" in first.output
    second = cli.invoke(args=["demo", "load"])
    assert "0 users" in second.output and "0 processes" in second.output and "0 items" in second.output
    assert len(api.get("/items").get_json()["items"]) == 6
    assert api.token("market_clerk")


def test_scheduler_tick_runs_once(cli):
    result = cli.invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == [
        "timers: 0 case(s) moved", "clocks: 0 alarm(s) fired", "supervision orders: 0 overdue alarm(s) fired",
        "outbox: 0 message(s) sent",
        "calendar: 1 alarm(s) raised",  # late November and 2027 is not published yet: the admins are told
        "file clean-up: 0 stored file(s) removed", "archive: 0 package(s) built",
        "ratings: 0 rating window(s) closed or reminded", "statistics: 0 event(s) folded"]


def test_calendar_import_show_and_seed(cli, tmp_path):
    show = cli.invoke(args=["calendar", "show", "2026"])
    assert show.exit_code == 0, show.output
    lines = show.output.strip().splitlines()
    assert lines[0].startswith("2026: published;")
    assert any(line.startswith("2026-10-01  Thu  休 holiday") and "National Day" in line for line in lines)
    assert any(line.startswith("2026-10-10  Sat  班 workday") for line in lines)
    assert "NOT published" in cli.invoke(args=["calendar", "show", "2027"]).output
    good = tmp_path / "2027.csv"
    good.write_text("date,kind,name\n2027-01-01,休,元旦\n2027-02-06,班,春节\n2027-10-01,holiday,国庆节\n",
                    encoding="utf-8")
    result = cli.invoke(args=["calendar", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2027: 3 days, published; 0 deadlines moved"
    assert cli.invoke(args=["calendar", "show", "2027"]).output.startswith("2027: published;")
    assert cli.invoke(args=["calendar", "seed"]).output.strip() == "calendar: 0 year(s) added"


def test_calendar_import_refuses_bad_files_in_one_line(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("2027-01-01,休,元旦\n2027-01-05,班,周二\n2027-13-01,休,x\n", encoding="utf-8")
    result = cli.invoke(args=["calendar", "import", str(bad)])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "line 2:" in result.output and "line 3:" in result.output
    missing = cli.invoke(args=["calendar", "import", str(tmp_path / "none.json")])
    assert missing.exit_code == 1 and len(missing.output.strip().splitlines()) == 1
    assert "NOT published" in cli.invoke(args=["calendar", "show", "2027"]).output
    assert cli.invoke(args=["calendar", "show", "1900"]).exit_code == 1


def test_the_scheduler_runs_every_job_at_once_and_then_on_its_interval(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from app.jobs.scheduler import _add_jobs

    scheduler = BackgroundScheduler()
    _add_jobs(scheduler, app)
    jobs = {job.id: job.trigger.interval.total_seconds() for job in scheduler.get_jobs()}
    interval = float(app.config["SCHEDULER_INTERVAL"])
    assert jobs == {"engine_timers": interval, "clocks": interval, "orders": interval, "outbox": interval,
                    "calendar": 3600.0, "files": 3600.0, "archive": 300.0, "ratings": 300.0, "statistics": 60.0}
