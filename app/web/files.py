"""Uploaded materials, served only after checking on every request who asks (a file URL is not a
capability): the owner of the draft, or anyone who may see the case."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request, send_file
from flask_login import login_required

from app.services.documents.files import FileNotFound, open_file

from .portal.common import upload_store
from .session import ctx, principal

bp = Blueprint("files", __name__)

# An image shown on its own can do nothing; the sandbox makes sure of it should a browser ever treat
# the bytes as something else.
IMAGE_POLICY = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
# Chromium refuses to run its PDF viewer under a `sandbox` policy (no sandbox token allows it) and
# `default-src 'none'` breaks the viewer's own page, so a PDF is only kept from being framed by other
# sites. Its type is the one its bytes showed, nosniff holds the browser to it, and the viewer runs a
# PDF's scripts, if any, apart from this site's origin.
PDF_POLICY = "frame-ancestors 'self'"


@bp.get("/files/<id:file_id>")
@login_required
def download(file_id: int) -> Any:
    try:
        file, path = open_file(ctx(), principal(), file_id, upload_store())
    except FileNotFound:
        abort(404)
    inline = request.args.get("inline") == "1" and file.inline
    # The name carries the extension of the type the bytes showed (`x.html` holding a PDF: `x.html.pdf`).
    response = send_file(path, mimetype=file.content_type, as_attachment=not inline,
                         download_name=file.download_name, conditional=True, etag=file.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if inline:
        response.headers["Content-Security-Policy"] = (
            PDF_POLICY if file.content_type == "application/pdf" else IMAGE_POLICY)
    else:
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response
