"""A scheduler process for the exactly-once tests: sweeps the clocks due at NOW until none is left.

    python -m tests.integration.sweep_worker DB_URL NOW_ISO [--die-before-commit]

Prints one JSON line {"checked": n, "alarms": n}. With --die-before-commit it SIGKILLs itself after its
first batch is written but before that transaction commits.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime

from app import create_app
from app.clock import ManualClock
from app.services.timelimits import alarms, clock_sweep
from tests.conftest import make_config


def main(argv: list[str]) -> int:
    url, now = argv[0], datetime.fromisoformat(argv[1])
    app = create_app(make_config(url), clock=ManualClock(now))
    ctx = app.extensions["banjian"]
    if "--die-before-commit" in argv:
        original = alarms.insert_once

        def insert_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            original(*args, **kwargs)
            args[1].flush()
            os.kill(os.getpid(), signal.SIGKILL)

        alarms.insert_once = insert_then_die  # type: ignore[assignment]
    result = clock_sweep.sweep_clocks(ctx, batch=250)
    print(json.dumps({"checked": result.checked, "alarms": result.alarms}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
