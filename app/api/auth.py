"""POST /auth/token."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import ValidationError

from app.errors import InvalidInput, TooManyAttempts
from app.services.identity.auth import issue_token

from . import bp
from .errors import error_response
from .schemas import TokenRequest
from .security import ctx

# What a missing or malformed credential field says, in both languages like every other API message.
_FIELD_MESSAGES = {
    "username": "必填，1-64 个字符 / required, 1-64 characters",
    "password": "必填，1-256 个字符 / required, 1-256 characters",
    "_schema": "请求体须为 JSON 对象 / the body must be a JSON object",
}


@bp.post("/auth/token")
def token() -> Any:
    body = _credentials()
    try:
        value = issue_token(ctx(), body["username"], body["password"], client=request.remote_addr or "unknown")
    except TooManyAttempts as exc:
        response, status = error_response(exc.status, exc.as_errors())
        response.headers["Retry-After"] = str(exc.retry_after)
        return response, status
    return {"token": value, "token_type": "Bearer", "expires_in": ctx().token_max_age}


def _credentials() -> dict[str, str]:
    """:raises InvalidInput: a field is missing, empty, too long or unknown (details name each one)."""
    try:
        body: dict[str, str] = TokenRequest().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput("需要用户名和密码 / user name and password are required", [
            {"field": name, "message": _FIELD_MESSAGES.get(str(name), "不支持的字段 / not an accepted field")}
            for name in fields]) from exc
    return body
