"""The applicant portal: registration, service guide, applying, my cases, public tracking; and the
access-checked file downloads shared with staff pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from ..session import applicant_required

bp = Blueprint("portal", __name__)


@bp.get("/items")
def catalogue() -> Any:
    return render_template("portal/placeholder.html")


@bp.get("/items/<code>")
def guide(code: str) -> Any:
    return render_template("portal/placeholder.html")


@bp.get("/my/cases")
@applicant_required
def my_cases() -> Any:
    return render_template("portal/placeholder.html")


@bp.get("/track")
def track() -> Any:
    return render_template("portal/placeholder.html")


@bp.get("/register")
def register() -> Any:
    return render_template("portal/placeholder.html")
