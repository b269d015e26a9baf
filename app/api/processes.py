"""Process definitions: deploy a BPMN file, list the versions of a key."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import request

from app.errors import InvalidInput
from app.services.casework import processes

from . import bp
from .security import ctx, login_required, principal


@bp.post("/process-definitions")
@login_required
def deploy() -> Any:
    content, filename = _upload()
    deployed = processes.deploy(ctx(), principal(), content, filename)
    created = any(d.created for d in deployed)
    body = [asdict(d) for d in deployed]
    # The first process of the file answers at the top level; a file with several lists them all.
    return {**body[0], "definitions": body}, 201 if created else 200


@bp.get("/process-definitions/<key>")
@login_required
def versions(key: str) -> Any:
    rows = processes.list_versions(ctx(), principal(), key)
    return {"key": key, "versions": [asdict(v) for v in rows]}


def _upload() -> tuple[bytes, str]:
    if request.files:
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("missing file", [{"field": "file", "message": "必填 / required"}])
        return upload.read(), upload.filename or "upload.bpmn"
    if request.mimetype in ("application/xml", "text/xml", "application/bpmn+xml"):
        return request.get_data(), request.args.get("filename", "upload.bpmn")
    raise InvalidInput("send a multipart 'file' or an application/xml body",
                       [{"field": "file", "message": "必填 / required"}])
