"""The applicant portal: registration, the service guide (办事指南), applying with drafts (暂存), my
cases with notices, resubmission and withdrawal, and public tracking."""

from __future__ import annotations

from flask import Blueprint

from .common import china_time, item_labels

bp = Blueprint("portal", __name__)
bp.add_app_template_filter(china_time, "china_time")
bp.app_context_processor(item_labels)

from . import account, applying, guide, mycases, tracking  # noqa: E402,F401  (routes register on import)
