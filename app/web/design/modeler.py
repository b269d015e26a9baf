"""The BPMN modeler page (bpmn-js with the Camunda properties panel and the form editor) and its JSON
endpoints: a deployed version's files to open, the server's check of the diagram and the deploy.

The endpoints are session-authenticated pages, so they keep CSRF protection: the page script sends
the token in the X-CSRFToken header, which Flask-WTF reads for JSON posts.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from flask import jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import DomainError, InvalidProcess, NotFound
from app.headers import PAGE_POLICY
from app.services.casework import processes, versions

from ..formjs import localized
from ..session import ctx, principal, roles_required
from . import bp

designer_required = roles_required("designer")
MAX_FORMS = 200

# bpmn-js-properties-panel builds its two containers from HTML with these style attributes, which the
# page policy blocks (the panel then does not fill its column). Only these two exact values are let
# through, by hash; every other style attribute stays blocked and scripts are untouched.
PANEL_STYLES = ("height: 100%", "flex: none; height: auto")
MODELER_POLICY = PAGE_POLICY + "; style-src-attr 'unsafe-hashes' " + " ".join(
    f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in PANEL_STYLES)


@dataclass(frozen=True)
class Diagram:
    """A diagram and the forms edited with it, as the page posts them."""

    bpmn: bytes
    filename: str
    forms: dict[str, bytes]


class BadRequest(Exception):
    """A post the page would never send (no XML, forms not a map of texts): answered 400."""


@bp.get("/modeler")
@designer_required
def modeler() -> Any:
    key, version = request.args.get("key", ""), request.args.get("version", type=int)
    source = url_for(".source", key=key, version=version) if key and version else ""
    response = make_response(render_template("design/modeler.html", source_url=source, key=key, version=version))
    response.headers["Content-Security-Policy"] = MODELER_POLICY
    return response


@bp.get("/processes/<key>/<int:version>/source")
@designer_required
def source(key: str, version: int) -> Any:
    """A version's BPMN and forms for the modeler to open."""
    try:
        files = versions.files(ctx(), principal(), key, version)
    except NotFound:
        return _problems(404, [{"message": _("Process %(key)s has no version %(version)s.", key=key, version=version)}])
    return jsonify(filename=files.filename, bpmn=files.bpmn, forms=files.forms)


@bp.post("/check")
@designer_required
def check() -> Any:
    try:
        diagram = _diagram()
    except BadRequest as error:
        return _problems(400, [{"message": str(error)}])
    result = processes.lint_file(ctx(), diagram.bpmn, diagram.filename, forms=diagram.forms)
    return jsonify(ok=result.ok, problems=[_localized(p.as_dict()) for p in result.problems])


@bp.post("/deploy")
@designer_required
def deploy() -> Any:
    try:
        diagram = _diagram()
        deployed = processes.deploy(ctx(), principal(), diagram.bpmn, diagram.filename, forms=diagram.forms)
    except BadRequest as error:
        return _problems(400, [{"message": str(error)}])
    except InvalidProcess as error:
        return _problems(422, error.as_errors(), localized(error.message))
    except DomainError as error:  # a concurrent deploy of the same key (409), not allowed (403)
        return _problems(error.status, error.as_errors(), localized(error.message))
    return jsonify(deployed=[{
        "key": d.key, "version": d.version, "name": d.name, "created": d.created,
        "versions_url": url_for(".process_versions", key=d.key),
    } for d in deployed])


def _diagram() -> Diagram:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("bpmn"), str) or not body["bpmn"].strip():
        raise BadRequest(_("Send the diagram's BPMN XML."))
    forms = body.get("forms") or {}
    if not isinstance(forms, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in forms.items()):
        raise BadRequest(_("Forms must be sent as texts by form key."))
    if len(forms) > MAX_FORMS:
        raise BadRequest(_("At most %(n)s forms can be sent with a diagram.", n=MAX_FORMS))
    if len(body["bpmn"].encode("utf-8")) > ctx().max_bpmn_bytes:  # the check would parse it all first
        raise BadRequest(_("The diagram is larger than %(n)s bytes.", n=ctx().max_bpmn_bytes))
    filename = body.get("filename") if isinstance(body.get("filename"), str) else ""
    return Diagram(body["bpmn"].encode("utf-8"), (filename or "diagram.bpmn").strip()[:255],
                   {k: v.encode("utf-8") for k, v in forms.items()})


def _localized(detail: dict[str, Any]) -> dict[str, Any]:
    return {**detail, "message": localized(str(detail.get("message", "")))}


def _problems(status: int, problems: list[dict[str, Any]], message: str = "") -> Any:
    return jsonify(ok=False, message=message, problems=[_localized(p) for p in problems]), status
