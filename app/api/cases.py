"""Cases: apply, and read one case."""

from __future__ import annotations

from typing import Any

from app.services.casework import cases

from . import bp
from .body import json_object
from .schemas import CaseCreate, Withdrawal
from .security import ctx, login_required, principal


@bp.post("/cases")
@login_required
def create_case() -> Any:
    body = CaseCreate().load(json_object())
    return cases.create_case(ctx(), principal(), body["item_code"], body["data"], body["applicant"]), 201


@bp.get("/cases/<case_no>")
@login_required
def get_case(case_no: str) -> Any:
    return cases.get_case(ctx(), principal(), case_no)


@bp.post("/cases/<case_no>/withdraw")
@login_required
def withdraw_case(case_no: str) -> Any:
    body = Withdrawal().load(json_object())
    return cases.withdraw_case(ctx(), principal(), case_no, body["reason"])
