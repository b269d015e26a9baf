"""Settings, read from environment variables once at start-up and validated by `create_app`."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the app does not start (wsgi.py prints it as one line)."""


def _number(name: str, default: float, kind: type) -> float:
    value = os.environ.get(name)
    if value is None:
        return kind(default)
    try:
        return kind(value)
    except ValueError:
        raise SettingsError(f"{name} must be {'a whole number' if kind is int else 'a number'}, "
                            f"got {value!r}") from None


def _int(name: str, default: float) -> int:
    return int(_number(name, default, int))


def _float(name: str, default: float) -> float:
    return _number(name, default, float)


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-shaped defaults; every value can be overridden by an environment variable."""

    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    INSTANCE_DIR = Path(os.environ.get("BANJIAN_INSTANCE_DIR", BASE_DIR / "instance"))
    DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'banjian.sqlite3'}")
    BPMN_DIR = Path(os.environ.get("BANJIAN_BPMN_DIR", BASE_DIR / "bpmn"))
    FORMS_DIR = Path(os.environ.get("BANJIAN_FORMS_DIR", BASE_DIR / "forms"))
    # Uploaded materials: outside the web root, never served without an access check.
    UPLOAD_DIR = Path(os.environ.get("BANJIAN_UPLOAD_DIR", INSTANCE_DIR / "uploads"))
    # E-licence signing keys (private PEM files, 0600): outside the web root and apart from the uploads.
    KEYS_DIR = Path(os.environ.get("BANJIAN_KEYS_DIR", INSTANCE_DIR / "keys"))
    UPLOAD_MAX_BYTES = _int("BANJIAN_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
    # Per applicant: the files of their drafts and open cases together; and files per application.
    UPLOAD_QUOTA_MB = _float("BANJIAN_UPLOAD_QUOTA_MB", 200)
    UPLOAD_FILES_PER_DRAFT = _int("BANJIAN_UPLOAD_FILES_PER_DRAFT", 30)
    # The clean-up job: drafts unchanged this many natural days are deleted; stored bytes no record
    # refers to are removed once this many hours old (the job runs hourly).
    DRAFT_DAYS = _int("BANJIAN_DRAFT_DAYS", 30)
    FILE_GRACE_HOURS = _float("BANJIAN_FILE_GRACE_HOURS", 24)
    # API bearer tokens: signed, expire after this many seconds.
    TOKEN_MAX_AGE = _int("BANJIAN_TOKEN_MAX_AGE", 8 * 3600)
    # Restricted script engine limits per expression or script.
    SCRIPT_TIME_LIMIT = _float("BANJIAN_SCRIPT_TIME_LIMIT", 1.0)
    SCRIPT_STEP_LIMIT = _int("BANJIAN_SCRIPT_STEP_LIMIT", 200_000)
    # BPMN code runs in engine worker processes: memory each may add (MB), how many per web/scheduler
    # process, the cap on multi-instance loops, and isolation itself (off only to benchmark the
    # in-process baseline). Checked at start-up by app/services/wiring.py.
    SCRIPT_MEMORY_LIMIT_MB = os.environ.get("BANJIAN_SCRIPT_MEMORY_LIMIT_MB", "256")
    ENGINE_WORKERS = os.environ.get("BANJIAN_ENGINE_WORKERS", "2")
    MAX_LOOP_INSTANCES = os.environ.get("BANJIAN_MAX_LOOP_INSTANCES", "200")
    ENGINE_ISOLATION = os.environ.get("BANJIAN_ENGINE_ISOLATION", "on")
    MAX_BPMN_BYTES = _int("BANJIAN_MAX_BPMN_BYTES", 5 * 1024 * 1024)
    MAX_CONTENT_LENGTH = _int("BANJIAN_MAX_CONTENT_LENGTH", 50 * 1024 * 1024)
    SCHEDULER_ENABLED = _bool("BANJIAN_SCHEDULER", False)
    SCHEDULER_INTERVAL = _float("BANJIAN_SCHEDULER_INTERVAL", 30)
    SQL_ECHO = _bool("BANJIAN_SQL_ECHO", False)
    # The site's address as the public reaches it (e.g. https://zwfw.example.gov.cn), for links made
    # outside a request: the QR code of a licence PDF the archive job renders. Empty: http://localhost.
    PUBLIC_URL = os.environ.get("BANJIAN_PUBLIC_URL", "")
    # Where and when applicants collect licences at the window (统一出件窗口), for items whose guide does not
    # name a pickup place; told in the "licence ready" message and on the case page.
    PICKUP_PLACE = os.environ.get("BANJIAN_PICKUP_PLACE", "")
    PICKUP_HOURS = os.environ.get("BANJIAN_PICKUP_HOURS", "")
    # E-mails and text messages: "logging" (one log line each) or "package.module:factory".
    # How often a process checks whether the working-day calendar changed elsewhere (seconds).
    CALENDAR_RECHECK_SECONDS = _float("BANJIAN_CALENDAR_RECHECK_SECONDS", 10)
    OUTBOX_SENDER = os.environ.get("BANJIAN_OUTBOX_SENDER", "logging")
    OUTBOX_MAX_ATTEMPTS = _int("BANJIAN_OUTBOX_MAX_ATTEMPTS", 8)
    OUTBOX_BATCH = _int("BANJIAN_OUTBOX_BATCH", 100)
    # E-mail through an SMTP server when SMTP_HOST is set; without it e-mails are marked "skipped" by the
    # logging sender. SMTP_TLS: starttls (default), ssl or off; the port defaults by it (587, 465, 25).
    SMTP_HOST = os.environ.get("BANJIAN_SMTP_HOST", "")
    SMTP_PORT = os.environ.get("BANJIAN_SMTP_PORT", "")
    SMTP_USER = os.environ.get("BANJIAN_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("BANJIAN_SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("BANJIAN_SMTP_FROM", "")
    SMTP_TLS = os.environ.get("BANJIAN_SMTP_TLS", "starttls")
    PASSWORD_HASH_METHOD = "scrypt"
    # Production refuses to start with the development SECRET_KEY or a short one.
    PRODUCTION = True
    # The session cookie goes back only on same-site navigations and, behind HTTPS, only over HTTPS.
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("BANJIAN_SECURE_COOKIES", True)
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed (0: none), so
    # limits count the real client address; more than the real number lets clients forge theirs.
    TRUSTED_PROXIES = _int("BANJIAN_TRUSTED_PROXIES", 0)


class DevConfig(Config):
    """`make run`: SQLite, demo data, scheduler inside the development server."""

    SCHEDULER_ENABLED = _bool("BANJIAN_SCHEDULER", True)
    PRODUCTION = False
    SESSION_COOKIE_SECURE = _bool("BANJIAN_SECURE_COOKIES", False)  # the dev server speaks plain HTTP


class TestConfig(Config):
    """Tests: an in-memory SQLite database unless TEST_DATABASE_URL names another one."""

    TESTING = True
    SECRET_KEY = "test-secret"
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    SCHEDULER_ENABLED = False
    SCRIPT_TIME_LIMIT = 0.5
    # Hashing cost is not what tests measure; scrypt would make every demo load take seconds.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    PRODUCTION = False
    # Tests that issue licences must not leave keys in instance/; key files have unique names, so one
    # folder under the system temp directory serves every run.
    KEYS_DIR = Path(tempfile.gettempdir()) / "banjian-test-keys"
    SESSION_COOKIE_SECURE = False


CONFIGS: dict[str, type[Config]] = {"production": Config, "development": DevConfig, "testing": TestConfig}
