"""The areas' catalogues are merged into one at run time (app/web/i18n.py), the later area winning, so
one English message id translated two ways shows the wrong words on the other area's pages (the portal's
收件时间 once read 收件 because the statistics catalogue said so). An id means one thing everywhere; where
the areas need different words, they need different ids."""

from __future__ import annotations

from babel.messages.pofile import read_po

from app.web.i18n import TRANSLATIONS


def _first(value: object) -> str:
    return str(value[0] if isinstance(value, (tuple, list)) else value)


def test_each_message_id_has_one_translation_across_the_areas():
    seen: dict[str, dict[str, str]] = {}
    for po in sorted(TRANSLATIONS.glob("*/zh/LC_MESSAGES/messages.po")):
        with po.open("rb") as source:
            catalog = read_po(source)
        area = po.relative_to(TRANSLATIONS).parts[0]
        for message in catalog:
            if message.id and message.string:
                seen.setdefault(_first(message.id), {})[area] = _first(message.string)
    clashes = {msgid: areas for msgid, areas in seen.items() if len(set(areas.values())) > 1}
    assert clashes == {}

