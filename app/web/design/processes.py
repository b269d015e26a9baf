"""The process catalogue pages: every process key with its versions, case counts and items, and the
downloads of a version's BPMN file and forms (one by one or as a zip)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, render_template, url_for

from app.errors import NotFound
from app.services.casework import versions

from ..session import ctx, principal, roles_required
from . import bp

designer_required = roles_required("designer")
# Downloads are files, not pages: never rendered as a document of this site.
DOWNLOAD_POLICY = "sandbox; default-src 'none'"


@bp.get("/processes")
@designer_required
def processes() -> Any:
    return render_template("design/processes.html", entries=versions.catalogue(ctx(), principal()))


@bp.get("/processes/<key>")
@designer_required
def process_versions(key: str) -> Any:
    try:
        entry = versions.process(ctx(), principal(), key)
    except NotFound:
        abort(404)
    return render_template("design/versions.html", entry=entry, migrate_url=migrate_url,
                           forms=versions.form_keys(ctx(), principal(), entry))


def migrate_url(key: str, version: int) -> str | None:
    """The migration page of another module, once it exists (it is built separately)."""
    if "design.migrate" not in current_app.view_functions:
        return None
    return url_for("design.migrate", key=key, **{"from": version})


def version_files(key: str, version: int) -> versions.VersionFiles:
    try:
        return versions.files(ctx(), principal(), key, version)
    except NotFound:
        abort(404)


@bp.get("/processes/<key>/<int:version>/bpmn")
@designer_required
def download_bpmn(key: str, version: int) -> Any:
    files = version_files(key, version)
    return _download(files.bpmn.encode("utf-8"), "application/xml", _versioned(files.filename, version))


@bp.get("/processes/<key>/<int:version>/forms/<form_key>")
@designer_required
def download_form(key: str, version: int, form_key: str) -> Any:
    files = version_files(key, version)
    if form_key not in files.forms:
        abort(404)
    return _download(files.forms[form_key].encode("utf-8"), "application/json", form_key.replace(":", "-"))


@bp.get("/processes/<key>/<int:version>/zip")
@designer_required
def download_zip(key: str, version: int) -> Any:
    files = version_files(key, version)
    return _download(versions.archive(files), "application/zip", f"{key}-v{version}.zip")


def _versioned(filename: str, version: int) -> str:
    stem, dot, suffix = filename.rpartition(".")
    return f"{stem}-v{version}.{suffix}" if dot else f"{filename}-v{version}"


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    return response
