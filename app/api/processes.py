"""Process definitions: deploy a BPMN file with its forms, list the versions of a key, read a version's
form."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from flask import request

from app.errors import InvalidInput
from app.forms import bundle
from app.services.casework import processes

from . import bp
from .openapi import id_param, op, path_param
from .security import ctx, login_required, principal

_BINARY = {"type": "string", "format": "binary"}
OPENAPI_PATHS = {
    "/process-definitions": {"post": op(
        "Deploy a BPMN file with the form files it references (same BPMN and forms: 200 with the existing "
        "version). Multipart: several `file` parts (one .bpmn plus .form/.json files) or one .zip holding "
        "them; a formKey not uploaded is taken from the server's forms/ folder; inline camunda:formData is "
        "stored too. Or the BPMN alone as an application/xml body. A missing form is a 400 naming the task.",
        "201", requestBody={
            "required": True, "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "array", "items": _BINARY}}}},
                "application/xml": {"schema": {"type": "string"}}}},
        parameters=[{"name": "filename", "in": "query", "schema": {"type": "string"}}])},
    "/process-definitions/{key}/versions/{version}/forms/{form_key}": {"get": op(
        "A form (form-js JSON) as deployed with a version; inline camunda:formData under inline:<task id> "
        "(admin, designer)",
        parameters=[*path_param("key"), *id_param("version"), *path_param("form_key")])},
}


@bp.post("/process-definitions")
@login_required
def deploy() -> Any:
    upload = _upload()
    deployed = processes.deploy(ctx(), principal(), upload.bpmn, upload.bpmn_name, upload.forms)
    created = any(d.created for d in deployed)
    body = [asdict(d) for d in deployed]
    # The first process of the file answers at the top level; a file with several lists them all.
    return {**body[0], "definitions": body}, 201 if created else 200


@bp.get("/process-definitions/<key>")
@login_required
def versions(key: str) -> Any:
    rows = processes.list_versions(ctx(), principal(), key)
    return {"key": key, "versions": [asdict(v) for v in rows]}


@bp.get("/process-definitions/<key>/versions/<id:version>/forms/<form_key>")
@login_required
def version_form(key: str, version: int, form_key: str) -> Any:
    text = processes.version_form(ctx(), principal(), key, version, form_key)
    return json.loads(text)


def _upload() -> bundle.Bundle:
    if request.files:
        files = [(f.filename or "upload.bpmn", f.read()) for f in request.files.getlist("file")]
        if not files:
            raise InvalidInput("missing file", [{"field": "file", "message": "必填 / required"}])
        if len(files) == 1 and bundle.is_zip(files[0][0]):
            files = bundle.read_zip(files[0][1], ctx().max_bpmn_bytes)
        return bundle.split(files)
    if request.mimetype in ("application/xml", "text/xml", "application/bpmn+xml"):
        return bundle.Bundle(request.args.get("filename", "upload.bpmn"), request.get_data())
    raise InvalidInput("send multipart 'file' parts or an application/xml body",
                       [{"field": "file", "message": "必填 / required"}])
