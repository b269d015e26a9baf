"""`make run` serves where PORT and HOST say (127.0.0.1:5000 by default)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def serve_line(*overrides: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # -n prints the recipe without running anything (no install, no server)
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "run", *overrides], capture_output=True, text=True,
                         check=True, timeout=30, env={"PATH": "/usr/bin:/bin"}).stdout
    return next(line for line in out.splitlines() if " serve " in line)


def test_make_run_serves_on_the_default_address_and_where_port_and_host_say():
    assert serve_line().endswith("serve --host 127.0.0.1 --port 5000")
    assert serve_line("PORT=8081", "HOST=0.0.0.0").endswith("serve --host 0.0.0.0 --port 8081")
