"""Design pages (/design) for process designers and administrators: deployed processes and their
versions, the BPMN modeler, the form editor, version diff and the migration of running cases."""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint

bp = Blueprint("design", __name__, url_prefix="/design")

# Every module of the package registers its routes on import; a new page area is a new module.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
