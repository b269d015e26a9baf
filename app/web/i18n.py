"""Languages: Chinese (zh_CN) by default, English on request. Message ids are English; each area of
the pages keeps its own catalogue, app/translations/<area>/zh/LC_MESSAGES/messages.po, merged at run
time (`zh`, because Babel spells the locale zh_Hans_CN and falls back to the language)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session

LANGUAGES = ("zh_CN", "en")
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES, default="zh_CN") if request else "zh_CN"


def translation_directories() -> str:
    return ";".join(str(p) for p in sorted(TRANSLATIONS.iterdir()) if p.is_dir()) if TRANSLATIONS.is_dir() else ""


def compile_catalogs() -> int:
    """Compile every .po under app/translations into its .mo when the .mo is missing or older."""
    done = 0
    for po in TRANSLATIONS.rglob("*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as src:
            catalog = read_po(src)
        with mo.open("wb") as out:
            write_mo(out, catalog)
        done += 1
    return done

