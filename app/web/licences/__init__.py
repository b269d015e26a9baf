"""E-licence pages: the public verification page (the QR code's target, no sign-in, limited like /track),
the upload check of a PDF, and the PDF download for the holder and staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import login_required

from app.errors import TooManyAttempts
from app.services.licensing import download, records
from app.services.licensing.pdf import PdfUnavailable, read_embedded

from ..session import ctx, principal

bp = Blueprint("licences", __name__)
MAX_PDF = 10 * 1024 * 1024


@bp.get("/verify/<string(maxlength=64):number>")
def verify(number: str) -> Any:
    sig = request.args.get("sig")
    return _verdict(number, sig[:64] if sig is not None else None, None)


@bp.route("/verify", methods=["GET", "POST"])
def verify_form() -> Any:
    """GET: the form (a number, or a PDF to check); POST: the check."""
    if request.method == "GET":
        number = request.args.get("number", "").strip()[:64]
        return _verdict(number, None, None) if number else render_template("licences/verify_form.html")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        number = request.form.get("number", "").strip()[:64]
        if not number:
            return render_template("licences/verify_form.html", error="missing"), 400
        return _verdict(number, None, None)
    embedded = read_embedded(upload.stream.read(MAX_PDF + 1)[:MAX_PDF])
    facts = embedded.get("facts") if embedded else None
    if not isinstance(facts, dict) or not isinstance(facts.get("number"), str):
        return render_template("licences/verify_form.html", error="unreadable"), 400
    return _verdict(facts["number"][:64], None, embedded)


@bp.get("/licences/<string(maxlength=64):number>.pdf")
@login_required
def pdf(number: str) -> Any:
    target = url_for("licences.verify", number=number, sig="{sig}", _external=True)
    try:
        body = download.licence_pdf(ctx(), principal(), number, target)
    except records.LicenceNotFound:
        abort(404)
    except PdfUnavailable as exc:
        return render_template("licences/unavailable.html", message=exc.message), 503
    return body, 200, {"Content-Type": "application/pdf",
                       "Content-Disposition": f'attachment; filename="licence-{number}.pdf"'}


def _verdict(number: str, sig: str | None, embedded: dict[str, Any] | None) -> Any:
    try:
        verdict = records.check(ctx(), number, sig, embedded, client=request.remote_addr or "unknown")
    except records.LicenceNotFound:
        return render_template("licences/verify.html", verdict=None, number=number), 404
    except TooManyAttempts as exc:
        page = render_template("licences/verify.html", verdict=None, number=number, limited=True)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    return render_template("licences/verify.html", verdict=verdict, number=number)
