"""Requests that carry files: a `multipart/form-data` body with a `json` part (the body a JSON request
would send) and one `material-<index>` part per file, repeated for several files of one material;
`<index>` counts from 0 in the item's list of materials, as the portal's upload inputs do.

A part named anything else is refused by name, so a misspelt part is not silently dropped."""

from __future__ import annotations

import re
from typing import Any

from flask import request

from app.errors import InvalidForm, InvalidInput
from app.services.portal import MATERIAL, Part

from .body import json_object, parse_json

JSON_PART = "json"
MATERIAL_PART = re.compile(r"material-(\d{1,4})")
# For the OpenAPI entries of the routes that take files.
FILES_DOC = ("multipart/form-data: a `json` part holding the JSON body and `material-<index>` file parts "
             "(index from 0 in the item's materials; repeat a part for several files of one material); files "
             "must be PDF, PNG or JPEG (by their bytes) within the size and upload quota limits")


def is_multipart() -> bool:
    return request.mimetype == "multipart/form-data"


def body_and_parts() -> tuple[dict[str, Any], list[Part]]:
    """The JSON body and the files of the request, multipart or plain JSON (no files then).

    :raises InvalidInput: a part that is neither `json` nor `material-<index>`, a material part that
        is not a file, or a `json` part that is not a JSON object.
    """
    if not is_multipart():
        return json_object(), []
    for name in request.form:
        if name != JSON_PART:
            raise _unknown(name, "应为文件 / must be a file" if MATERIAL_PART.fullmatch(name) else None)
    parts: list[Part] = []
    for name, file in request.files.items(multi=True):
        match = MATERIAL_PART.fullmatch(name)
        if name == JSON_PART:
            continue
        if match is None:
            raise _unknown(name)
        parts.append(Part(int(match.group(1)), file.filename or name, file.stream))
    return _json_part(), parts


def by_part(exc: InvalidForm) -> InvalidForm:
    """The service's material keys ("_material.2") as the parts the client sent ("material-2")."""
    prefix = f"{MATERIAL}."
    renamed = {f"material-{key[len(prefix):]}" if key.startswith(prefix) else key: messages
               for key, messages in exc.field_errors.items()}
    return InvalidForm(renamed, exc.message)


def _json_part() -> dict[str, Any]:
    if JSON_PART in request.files:  # sent as a file (curl -F 'json=@body.json')
        raw: str | bytes = request.files[JSON_PART].read()
    else:
        raw = request.form.get(JSON_PART, "")
    if not raw.strip():
        return {}
    data = parse_json(raw, JSON_PART)
    if not isinstance(data, dict):
        raise InvalidInput("json 部分必须是 JSON 对象 / the json part must be a JSON object",
                           [{"field": JSON_PART, "message": "必须是 JSON 对象 / must be a JSON object"}])
    return data


def _unknown(name: str, message: str | None = None) -> InvalidInput:
    text = message or "未知部分，应为 json 或 material-<序号> / unknown part: expected json or material-<index>"
    return InvalidInput(f"unexpected part '{name}'", [{"field": name[:100], "message": text}])
