"""Domain messages ("必填 / required") in the page's language."""

from __future__ import annotations

from flask_babel import get_locale


def localized(message: str) -> str:
    """The current language's half of a bilingual domain message ("必填 / required")."""
    if " / " not in message:
        return message
    zh, _sep, en = message.partition(" / ")
    return zh if str(get_locale() or "zh").startswith("zh") else en
