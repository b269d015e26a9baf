"""Staff pages: inbox, task page, case page (window intake lives in app/web/intake.py)."""

from __future__ import annotations

from flask import Blueprint

from .common import template_helpers

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.context_processor(template_helpers)

from . import cases, delivery, inbox, tasks  # noqa: E402,F401  (routes register on import)
