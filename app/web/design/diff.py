"""Two versions of a process side by side: the browser diffs the diagrams (bpmn-js-differ) and marks
added, removed and changed elements on both; the server adds what the diagram cannot show, the forms
that changed and the Camunda settings, properties and conditions per element."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _

from app.errors import NotFound
from app.services.casework import versions

from ..session import ctx, principal, roles_required
from . import bp

designer_required = roles_required("designer")


@bp.get("/processes/<key>/diff")
@designer_required
def diff(key: str) -> Any:
    try:
        entry = versions.process(ctx(), principal(), key)
    except NotFound:
        abort(404)
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    known = {v.version for v in entry.versions}
    if a not in known or b not in known:
        message = _("Choose two versions of %(key)s to compare (it has versions %(versions)s).",
                    key=key, versions=", ".join(f"v{n}" for n in sorted(known)))
        return render_template("errors/error.html", code=400, message=message), 400
    assert a is not None and b is not None  # narrowed by the check above
    changes = versions.compare(ctx(), principal(), key, a, b)
    return render_template(
        "design/diff.html", entry=entry, a=a, b=b, changes=changes,
        url_a=url_for(".download_bpmn", key=key, version=a), url_b=url_for(".download_bpmn", key=key, version=b))
