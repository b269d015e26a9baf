"""A fresh process continues a half-finished case; a process killed mid-step leaves the last commit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flask import Flask

from tests.conftest import Api
from tests.e2e.flows import ACCEPT, FOOD, FOOD_APPLY, PASS, apply, case, complete

ROOT = Path(__file__).resolve().parents[2]




def run_worker(url: str, case_no: str, key: str, user: str, data: dict, *flags: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "tests.integration.worker", url, case_no, key, user, json.dumps(data), *flags]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_new_process_continues_a_half_finished_case(shared_app: Flask, shared_url: str):
    api = Api(shared_app.test_client())
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", PASS)

    done = run_worker(shared_url, case_no, "acceptance", "market_clerk", ACCEPT)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "in_review"
    view = case(api, case_no)
    assert [t["task_key"] for t in view["tasks"]] == ["review"] and view["accepted_at"]


def test_a_kill_in_the_middle_of_a_step_leaves_the_last_committed_state(shared_app: Flask, shared_url: str):
    api = Api(shared_app.test_client())
    case_no = apply(api, FOOD, FOOD_APPLY)["case_no"]
    complete(api, case_no, "preview", "market_clerk", PASS)
    before = case(api, case_no)

    killed = run_worker(shared_url, case_no, "acceptance", "market_clerk", ACCEPT, "--die-before-commit")

    assert killed.returncode == -9, (killed.returncode, killed.stderr)
    after = case(api, case_no)
    assert after["version"] == before["version"] and after["status"] == before["status"]
    assert after["tasks"] == before["tasks"] and after["history"] == before["history"]
    # nothing is stuck: the same step succeeds afterwards
    assert complete(api, case_no, "acceptance", "market_clerk", ACCEPT)["status"] == "in_review"
