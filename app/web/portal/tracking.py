"""Public tracking by case number and the applicant's mobile number or ID suffix (§5.1.1.3 fields only)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from app.errors import CaseNotFound, TooManyAttempts
from app.services.portal import track as find_case

from ..session import ctx
from . import bp


@bp.route("/track", methods=["GET", "POST"])
def track() -> Any:
    """POST, so that neither the number nor the phone ends up in URLs and server logs."""
    result, not_found = None, False
    if request.method == "POST":
        try:
            result = find_case(ctx(), request.form.get("case_no", "")[:40], request.form.get("secret", "")[:40],
                               client=request.remote_addr or "unknown")
        except CaseNotFound:
            not_found = True
        except TooManyAttempts as exc:
            page = render_template("portal/track.html", result=None, not_found=False, limited=True)
            return page, 429, {"Retry-After": str(exc.retry_after)}
    return render_template("portal/track.html", result=result, not_found=not_found), 404 if not_found else 200
