"""WSGI entry point: `gunicorn wsgi:app`. A wrong setting stops it with one line, not a traceback."""

try:
    from app import create_app

    app = create_app()
except RuntimeError as exc:
    # config.SettingsError, matched by name: a bad value can fail the import of config itself.
    if type(exc).__name__ != "SettingsError":
        raise
    raise SystemExit(f"banjian: {exc}") from None
