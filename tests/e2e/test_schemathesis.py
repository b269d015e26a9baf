"""Schemathesis drives every operation of /api/v1/openapi.json, with data that fits the document and
data that does not, as an applicant and as an administrator: no answer is a server error.

Bounded: a few examples per operation and mode, no shrinking or example database, so it runs in seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

pytestmark = pytest.mark.usefixtures("demo")

EXAMPLES = 4
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                   suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])


def server_errors(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    found: list[str] = []

    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        resp = case.call(headers=headers)
        if resp.status_code >= 500:
            found.append(f"{resp.status_code}: {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:  # nothing that breaks the document fits this operation (a free-text path, say)
        pass
    return found


@pytest.mark.slow
@pytest.mark.parametrize("user", ["citizen", "admin"])
def test_no_generated_request_gets_a_server_error(app, api, user):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {api.token(user)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    errors = [f"{op.label} ({mode.value}) {error}" for op in operations
              for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
              for error in server_errors(op, mode, headers)]
    assert errors == []
