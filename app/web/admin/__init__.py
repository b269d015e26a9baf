"""Administration pages (/admin): the working-day calendar (工作日历). Administrators only."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import calendar  # noqa: E402,F401  (routes register on import)
