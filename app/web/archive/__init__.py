"""Electronic archive pages (电子档案) for archivists and administrators: search the packages, open one,
download it, check it against its manifest, and the list of packages past their retention period."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import lazy_gettext as _l

from app.errors import NotFound
from app.services.archive import catalogue

from ..params import date_arg, page_arg
from ..session import ctx, principal, roles_required
from . import documents

bp = Blueprint("archive", __name__, url_prefix="/archive")
bp.record_once(lambda state: documents.install(state.app))  # the archive job renders notices with the pages'

STATE_NAMES = {"pending": _l("Queued"), "building": _l("Being built"), "built": _l("Built"),
               "failed": _l("Failed, retried")}


@bp.get("/")
@roles_required("archivist")
def index() -> Any:
    args = {k: (request.args.get(k) or "").strip()[:200] for k in ("case_no", "item", "department", "from", "to")}
    errors: dict[str, bool] = {}
    days: dict[str, date | None] = {}
    for key in ("from", "to"):
        try:
            days[key] = date_arg(args[key]) if args[key] else None
        except ValueError:  # DateOutOfRange is one too
            errors[key], days[key] = True, None
    filters = catalogue.Filters(args["case_no"], args["item"], args["department"], days["from"], days["to"])
    page = catalogue.search(ctx(), principal(), filters, page_arg(request.args))
    return render_template("archive/index.html", page=page, args=args, errors=errors, state_names=STATE_NAMES,
                           departments=catalogue.departments(ctx())), 400 if errors else 200


@bp.get("/packages/<case_no>")
@roles_required("archivist")
def package(case_no: str) -> Any:
    return _package_page(case_no, None)


@bp.post("/packages/<case_no>/check")
@roles_required("archivist")
def check(case_no: str) -> Any:
    try:
        report = catalogue.check(ctx(), principal(), case_no)
    except NotFound:
        abort(404)
    return _package_page(case_no, report)


def _package_page(case_no: str, report: Any) -> Any:
    try:
        view = catalogue.get(ctx(), principal(), case_no)
    except NotFound:
        abort(404)
    return render_template("archive/package.html", p=view, report=report, state_names=STATE_NAMES,
                           documents=catalogue.documents(ctx(), principal(), case_no))


@bp.get("/packages/<case_no>/download")
@roles_required("archivist")
def download(case_no: str) -> Any:
    try:
        path, name = catalogue.package_file(ctx(), principal(), case_no)
    except NotFound:
        abort(404)
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=name, max_age=0)


@bp.get("/disposal")
@roles_required("archivist")
def disposal() -> Any:
    page = catalogue.due_for_disposal(ctx(), principal(), page_arg(request.args))
    return render_template("archive/disposal.html", page=page)
