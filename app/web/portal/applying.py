"""Applying online: the item's form and one upload per material, saved as a draft (暂存) or submitted."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.converters import MAX_ID
from app.errors import Conflict, Forbidden, InvalidForm, ItemNotFound, ProcessError
from app.forms import FormDefinition
from app.services import portal as service
from app.services.documents.files import FileStore, FileView

from ..formjs import form_view, localized, parse_submission, rerender_values
from ..params import strict_int
from ..session import applicant_required, ctx, principal
from . import bp
from .common import ACCEPT, Errors, material_uploads, max_upload_mb, reuse_choices, split_errors


@bp.route("/items/<code>/apply", methods=["GET", "POST"])
@applicant_required
def apply(code: str) -> Any:
    try:
        item = service.item_guide(ctx(), code)
    except ItemNotFound:
        abort(404)
    return _application(item, None)


@bp.get("/my/drafts")
@applicant_required
def drafts() -> Any:
    drafts = service.list_drafts(ctx(), principal(), int(current_app.config["DRAFT_DAYS"]))
    return render_template("portal/drafts.html", drafts=drafts)


@bp.route("/my/drafts/<id:draft_id>", methods=["GET", "POST"])
@applicant_required
def draft(draft_id: int) -> Any:
    found = _own_draft(draft_id)
    try:
        item = service.item_guide(ctx(), found["item_code"])
    except ItemNotFound:  # the item was withdrawn from the catalogue since
        abort(404)
    return _application(item, found)


@bp.post("/my/drafts/<id:draft_id>/delete")
@applicant_required
def delete_draft(draft_id: int) -> Any:
    try:
        service.delete_draft(ctx(), principal(), draft_id)
    except service.DraftNotFound:
        abort(404)
    flash(_("The draft was deleted."), "info")
    return redirect(url_for("portal.drafts"))


def _limited_store() -> FileStore:
    """The upload store with the quota and the files-per-draft cap from the settings."""
    return FileStore.from_settings(ctx().upload_dir, current_app.config)


def _own_draft(draft_id: int) -> dict[str, Any]:
    try:
        return service.get_draft(ctx(), principal(), draft_id)
    except service.DraftNotFound:
        abort(404)


def _application(item: dict[str, Any], draft: dict[str, Any] | None) -> Any:
    form = ctx().forms.get(item["form_key"]) if item.get("form_key") else None
    if request.method == "GET":
        return _page(item, draft, form, draft["data"] if draft else {}, Errors())
    data = parse_submission(form, request.form) if form else {}
    refresh = rerender_values(form, request.form) if form else None
    draft_id = draft["id"] if draft else None
    try:
        saved = service.save_draft(ctx(), principal(), item["code"], refresh or data,
                                   material_uploads(item["materials"]), _limited_store(), draft_id,
                                   reuse_choices(item["materials"]))
    except Forbidden:
        abort(403)
    except service.DraftNotFound:
        abort(404)
    errors = split_errors(saved.errors)
    removing = request.form.get("_remove_file", "")
    file_id = strict_int(removing, 1, MAX_ID)
    if file_id is not None:
        try:
            service.remove_draft_file(ctx(), principal(), saved.draft_id, file_id)
        except service.DraftNotFound:
            abort(404)
    current = service.get_draft(ctx(), principal(), saved.draft_id)
    if refresh is not None or removing or errors:
        return _page(item, current, form, refresh or data, errors, 422 if errors else 200)
    if request.form.get("_action") != "submit":
        flash(_("Your application was saved as a draft. You can come back to it under My drafts."), "success")
        return redirect(url_for("portal.draft", draft_id=saved.draft_id))
    return _submit(item, current, form, data)


def _submit(item: dict[str, Any], draft: dict[str, Any], form: FormDefinition | None, data: dict[str, Any]) -> Any:
    try:
        case = service.submit_draft(ctx(), principal(), draft["id"])
    except InvalidForm as exc:
        return _page(item, draft, form, data, split_errors(exc.field_errors), 422)
    except (Conflict, ProcessError) as exc:
        return _page(item, draft, form, data, Errors(general=[localized(exc.message)]), 409)
    flash(_("Your application was submitted. Case number: %(case_no)s.", case_no=case["case_no"]), "success")
    return redirect(url_for("portal.case", case_no=case["case_no"]))


def _page(item: dict[str, Any], draft: dict[str, Any] | None, form: FormDefinition | None,
          values: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    files: dict[str, list[FileView]] = {}
    for file in draft["files"] if draft else []:
        files.setdefault(file.material, []).append(file)
    view = form_view(form, values, errors.form) if form else None
    offers = service.licence_offers(ctx(), principal(), item["materials"])
    return render_template("portal/apply.html", item=item, draft=draft, view=view, files=files, errors=errors,
                           accept=ACCEPT, max_mb=max_upload_mb(), offers=offers,
                           chosen=draft["reused"] if draft else {}), status
