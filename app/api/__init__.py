"""JSON API at /api/v1: parse with marshmallow, call one service, map domain errors, dump."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Every module of the package registers its routes on import; a new area is a new module.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
