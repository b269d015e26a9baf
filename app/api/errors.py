"""The one place where domain errors become HTTP responses: `{"errors": [{field|element_id, message}]}`."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from app.errors import DomainError

from . import bp


def error_response(status: int, errors: list[dict[str, Any]]) -> tuple[Response, int]:
    return jsonify({"errors": errors}), status


def field_errors(messages: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Flatten marshmallow's nested messages into one entry per field."""
    if isinstance(messages, dict):
        out: list[dict[str, Any]] = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(field_errors(value, name))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": prefix or "_schema", "message": "; ".join(messages)}]
    return [{"field": prefix or "_schema", "message": str(messages)}]


@bp.app_errorhandler(DomainError)
def _domain(exc: DomainError) -> tuple[Response, int]:
    return error_response(exc.status, exc.as_errors())


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> tuple[Response, int]:
    return error_response(400, field_errors(exc.messages))


@bp.app_errorhandler(HTTPException)
def _http(exc: HTTPException) -> Any:
    if not request.path.startswith(bp.url_prefix or "/api"):
        return exc  # pages render their own error pages
    return error_response(exc.code or 500, [{"message": exc.description or exc.name}])


RACE = ("同一记录刚被另一操作修改，本次未作任何更改，请刷新后重试 / the same record was changed by another "
        "request at the same moment; nothing was changed, reload and retry")


@bp.app_errorhandler(IntegrityError)
def _race(exc: IntegrityError) -> Any:
    """Two requests created the same unique thing (a user name, a department code, an item code) at the
    same moment: both passed the service's own check, the database refused the second. Its transaction
    rolled back, so nothing changed; a 409 says so instead of a server error."""
    if not request.path.startswith(bp.url_prefix or "/api"):  # pages: the readable error page
        return render_template("errors/error.html", code=409, message=RACE), 409
    return error_response(409, [{"message": RACE}])
