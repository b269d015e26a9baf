"""A wrong setting stops the app before it serves anything: one line naming the variable, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


@pytest.mark.parametrize(("env", "says"), [
    ({"BANJIAN_SCRIPT_TIME_LIMIT": "abc"}, "banjian: BANJIAN_SCRIPT_TIME_LIMIT must be a number, got 'abc'"),
    ({"BANJIAN_UPLOAD_QUOTA_MB": "lots"}, "banjian: BANJIAN_UPLOAD_QUOTA_MB must be a number, got 'lots'"),
    ({"BANJIAN_ENGINE_WORKERS": "0"}, "banjian: BANJIAN_ENGINE_WORKERS must be a whole number from 1 to 64, got '0'"),
    ({"BANJIAN_CONFIG": "production", "SECRET_KEY": "short"}, "banjian: SECRET_KEY must be a random value"),
])
def test_a_wrong_setting_is_one_line_and_a_non_zero_exit(tmp_path, env, says):
    run = subprocess.run([str(FLASK), "--app", "wsgi", "scheduler", "tick"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "BANJIAN_CONFIG": "development",
                                                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **env})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [run.stderr.strip()] and run.stderr.startswith(says)
    assert run.stdout == ""
