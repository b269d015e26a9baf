"""POST /auth/token."""

from __future__ import annotations

from typing import Any

from flask import request

from app.services.identity.auth import issue_token

from . import bp
from .schemas import TokenRequest
from .security import ctx


@bp.post("/auth/token")
def token() -> Any:
    body = TokenRequest().load(request.get_json(silent=True) or {})
    return {"token": issue_token(ctx(), body["username"], body["password"]), "token_type": "Bearer",
            "expires_in": ctx().token_max_age}
