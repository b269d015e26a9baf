"""E-licence pages: the public verification page (the QR code's target, no sign-in, limited like /track),
the upload check of a PDF, the PDF download (any version) for the holder and staff, and the licence library
(证照库): search, a licence with all its versions, revocation by the issuing department's head."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.errors import Conflict, Forbidden, InvalidInput, TooManyAttempts
from app.services.licensing import download, library, records
from app.services.licensing.pdf import PdfUnavailable, read_embedded

from ..params import page_arg, strict_int
from ..session import ctx, principal, roles_required

bp = Blueprint("licences", __name__)
MAX_PDF = 10 * 1024 * 1024
LIBRARY_ROLES = ("clerk", "approver", "head", "supervisor", "applicant")  # and admin
STATE_NAMES = {"valid": _l("In force"), "expired": _l("Expired"), "revoked": _l("Revoked"),
               "replaced": _l("Replaced by a newer version")}


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
    """The latest version, or `?version=N` (an older one stays downloadable: its QR says replaced)."""
    target = url_for("licences.verify", number=number, sig="{sig}", _external=True)
    raw = request.args.get("version")
    version = strict_int(raw, 1, 1_000_000) if raw is not None else None
    if raw is not None and version is None:
        abort(404)
    try:
        body = download.licence_pdf(ctx(), principal(), number, target, version)
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


@bp.get("/licences")
@roles_required(*LIBRARY_ROLES)
def library_index() -> Any:
    args = {k: (request.args.get(k) or "").strip()[:100] for k in ("holder", "number", "type", "state")}
    if args["state"] not in library.STATES:
        args["state"] = ""
    flt = library.LicenceFilter(holder=args["holder"] or None, number=args["number"] or None,
                                licence_type=args["type"] or None, state=args["state"] or None)
    page = library.search(ctx(), principal(), flt, page_arg(request.args))
    return render_template("licences/library.html", page=page, args=args, state_names=STATE_NAMES,
                           types=library.licence_types(ctx()))


@bp.get("/licences/<string(maxlength=64):number>")
@roles_required(*LIBRARY_ROLES)
def licence(number: str) -> Any:
    return _licence_page(number)


@bp.post("/licences/<string(maxlength=64):number>/revoke")
@roles_required(*LIBRARY_ROLES)
def revoke(number: str) -> Any:
    reason = (request.form.get("reason") or "").strip()[:2000]
    try:
        records.revoke(ctx(), principal(), number, reason)
    except records.LicenceNotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except InvalidInput:
        return _licence_page(number, error=_("Give the reason for revoking the licence."), status=400)
    except Conflict:
        return _licence_page(number, error=_("The licence is no longer valid and cannot be revoked."), status=409)
    flash(_("The licence was revoked."), "success")
    return redirect(url_for("licences.licence", number=number))


def _licence_page(number: str, error: str | None = None, status: int = 200) -> Any:
    try:
        found = library.detail(ctx(), principal(), number)
    except records.LicenceNotFound:
        abort(404)
    return render_template("licences/licence.html", d=found, l=found.licence, f=found.licence.facts,
                           state_names=STATE_NAMES, error=error), status
