"""banjian (办件): workflow-engine-centred case management for government service centres."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from config import SettingsError

from .clock import Clock, SystemClock
from .headers import init_headers, init_proxies

DEV_SECRET_KEY = "dev-only-change-me"  # config.py's default: fine for `make run`, refused in production
__all__ = ["SettingsError", "create_app"]


class JsonProvider(DefaultJSONProvider):
    """ISO 8601 datetimes (Flask's default is the HTTP date format) and Chinese left readable."""

    ensure_ascii = False

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        if isinstance(o, Decimal):
            return str(o)
        if isinstance(o, timedelta):  # a BPMN script may keep one in the case data
            return iso_duration(o)
        return DefaultJSONProvider.default(o)


def iso_duration(value: timedelta) -> str:
    """ISO 8601, as BPMN timers write durations: P2D, PT1H30M, -P1DT0.5S."""
    sign, value = ("-", -value) if value < timedelta(0) else ("", value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = f"{seconds + value.microseconds / 1e6:g}" if value.microseconds else str(seconds)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    time += f"{fraction}S" if seconds or value.microseconds else ""
    days = f"{value.days}D" if value.days or not time else ""
    return f"{sign}P{days}{'T' + time if time else ''}"



def create_app(config_class: type | None = None, clock: Clock | None = None) -> Flask:
    """Build the app: settings, database, engine, API, pages and CLI. Nothing starts running here: the
    scheduler starts with `flask serve` (when enabled) or `flask scheduler run`."""
    from config import CONFIGS

    from .api import bp as api_bp
    from .cli import register_cli
    from .converters import CONVERTERS, refuse_nul
    from .services.wiring import build_context
    from .web import init_web

    app = Flask(__name__, template_folder="web/templates")
    app.json_provider_class = JsonProvider
    app.json = JsonProvider(app)
    name = os.environ.get("BANJIAN_CONFIG", "production")
    if config_class is None and name not in CONFIGS:
        raise SettingsError(f"BANJIAN_CONFIG must be one of {', '.join(CONFIGS)}, got {name!r}")
    app.config.from_object(config_class or CONFIGS[name])
    _check_settings(app.config)
    init_proxies(app, int(app.config.get("TRUSTED_PROXIES", 0)))
    init_headers(app)
    app.extensions["banjian"] = build_context(app.config, clock or SystemClock())
    app.extensions["banjian_outbox_sender"] = _outbox_sender(app.config)
    app.url_map.converters.update(CONVERTERS)  # before any route that names them
    app.before_request(refuse_nul)
    app.register_blueprint(api_bp)
    init_web(app)
    register_cli(app)
    return app


def _check_settings(config: Any) -> None:
    url = str(config.get("DATABASE_URL") or "")
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise SettingsError(f"DATABASE_URL must be a sqlite: or postgresql: URL, got {url!r}")
    if not config.get("SECRET_KEY"):
        raise SettingsError("SECRET_KEY must be set")
    if config.get("PRODUCTION") and (config["SECRET_KEY"] == DEV_SECRET_KEY or len(config["SECRET_KEY"]) < 32):
        raise SettingsError("SECRET_KEY must be a random value of at least 32 characters in production "
                            "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
    if int(config.get("TRUSTED_PROXIES", 0)) < 0:
        raise SettingsError("BANJIAN_TRUSTED_PROXIES must be 0 or more")
    for name in ("BPMN_DIR", "FORMS_DIR"):
        if not Path(config[name]).is_dir():
            raise SettingsError(f"{name} {config[name]} is not a directory")
    if float(config["SCRIPT_TIME_LIMIT"]) <= 0 or int(config["SCRIPT_STEP_LIMIT"]) <= 0:
        raise SettingsError("script limits must be positive")
    if int(config["OUTBOX_MAX_ATTEMPTS"]) < 1 or int(config["OUTBOX_BATCH"]) < 1:
        raise SettingsError("OUTBOX_MAX_ATTEMPTS and OUTBOX_BATCH must be at least 1")
    _check_upload_settings(config)


def _check_upload_settings(config: Any) -> None:
    if float(config["UPLOAD_QUOTA_MB"]) <= 0:
        raise SettingsError("UPLOAD_QUOTA_MB must be positive")
    if int(config["UPLOAD_FILES_PER_DRAFT"]) < 1 or int(config["DRAFT_DAYS"]) < 1:
        raise SettingsError("UPLOAD_FILES_PER_DRAFT and DRAFT_DAYS must be at least 1")
    # An upload records its bytes moments after writing them; a grace shorter than that could sweep them.
    if float(config["FILE_GRACE_HOURS"]) < 1:
        raise SettingsError("FILE_GRACE_HOURS must be at least 1")


def _outbox_sender(config: Any) -> Any:
    """The e-mail/SMS sender named by OUTBOX_SENDER, built once at start-up so a wrong name stops the
    app here instead of failing on every scheduler tick."""
    from .services.messaging.outbox import make_sender

    try:
        return make_sender(config["OUTBOX_SENDER"], config)
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc
