"""A separate process that acts on a case, for the durability tests.

    python -m tests.integration.worker DB_URL CASE_NO TASK_KEY USER JSON_DATA [--die-before-commit]

It builds a fresh app on DB_URL and completes the open task TASK_KEY of CASE_NO as USER. With
--die-before-commit it kills itself (SIGKILL) after the engine step and the projections are written
but before the transaction commits.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from sqlalchemy import select

from app import create_app
from app.models import Case, HumanTask
from app.services.casework import steps as projection
from app.services.casework import tasks
from app.services.identity.auth import principal_from_token
from tests.conftest import make_config


def main(argv: list[str]) -> int:
    url, case_no, task_key, user, data = argv[:5]
    app = create_app(make_config(url))
    ctx = app.extensions["banjian"]
    if "--die-before-commit" in argv:
        original = projection.save_step

        def save_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
            original(*args, **kwargs)
            args[1].flush()  # the new state is written inside the open transaction...
            os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before COMMIT

        tasks.save_step = save_then_die  # type: ignore[assignment]
    from app.services.identity.auth import issue_token

    principal = principal_from_token(ctx, issue_token(ctx, user, "demo1234"))
    with ctx.uow() as uow:
        task_id = uow.session.scalar(select(HumanTask.id).join(Case, Case.id == HumanTask.case_id)
                                     .where(Case.case_no == case_no, HumanTask.task_key == task_key))
    result = tasks.complete_task(ctx, principal, str(task_id), json.loads(data))
    print(json.dumps({"status": result["status"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
