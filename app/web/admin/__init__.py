"""Administration pages (/admin): the working-day calendar (工作日历), the item catalogue, users,
departments and groups, the audit trail. Administrators only, unless a page says otherwise."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Every module of the package registers its routes on import; a new page area is a new module.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
