"""Migration of running cases to another version of their process: preview, then migrate."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from marshmallow import fields, validate

from app.services.casework import migration

from . import bp
from .body import json_object
from .openapi import op, path_param
from .schemas import Strict
from .security import ctx, login_required, principal


class MigrationBody(Strict):
    from_version = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    to_version = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2**31 - 1))
    # omitted: every running case of from_version
    cases = fields.List(fields.String(validate=validate.Length(1, 32)), load_default=None,
                        validate=validate.Length(1, migration.MAX_CASES))


OPENAPI_BODIES = (MigrationBody,)
OPENAPI_PATHS = {
    "/process-definitions/{key}/migrations/preview": {"post": op(
        "Preview moving running cases (all of from_version, or the `cases` named) to to_version: per case "
        "whether it can move and, per open task, the task it maps to or why it cannot (admin, designer); "
        "changes nothing", body="MigrationBody", parameters=path_param("key"))},
    "/process-definitions/{key}/migrations": {"post": op(
        "Migrate running cases to to_version, each in its own transaction: per case `migrated`, or left "
        "unchanged with the `reason` (admin, designer)", body="MigrationBody", parameters=path_param("key"))},
}


@bp.post("/process-definitions/<key>/migrations/preview")
@login_required
def preview_migration(key: str) -> Any:
    body = MigrationBody().load(json_object())
    previews = migration.preview_cases(ctx(), principal(), key, body["from_version"], body["to_version"],
                                       body["cases"])
    return {"key": key, "from_version": body["from_version"], "to_version": body["to_version"],
            "cases": [asdict(p) for p in previews]}


@bp.post("/process-definitions/<key>/migrations")
@login_required
def migrate(key: str) -> Any:
    body = MigrationBody().load(json_object())
    outcomes = migration.migrate_cases(ctx(), principal(), key, body["from_version"], body["to_version"],
                                       body["cases"])
    return {"key": key, "from_version": body["from_version"], "to_version": body["to_version"],
            "migrated": sum(o.migrated for o in outcomes), "cases": [asdict(o) for o in outcomes]}
