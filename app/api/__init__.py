"""JSON API at /api/v1: parse with marshmallow, call one service, map domain errors, dump."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import (  # noqa: E402,F401  (routes register on import)
    auth,
    body,
    calendar,
    cases,
    clocks,
    errors,
    items,
    notifications,
    openapi,
    processes,
    supervision,
    tasks,
)
