"""Issued notices as the archive keeps them: the page the counter prints (the same templates, in Chinese,
the official language of the documents), made self-contained for the package — the style sheets inlined,
the site's header, buttons and scripts left out — so it reads the same in a browser decades later with
no server behind it.

The scheduler's archive job (a service, which imports no Flask) gets this through `ServiceContext.documents`,
set when the archive pages' blueprint is registered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, render_template, url_for
from lxml import html as lxml_html

from app.errors import CaseNotFound
from app.services.documents.notices import NoticeView
from app.services.identity.principal import Principal
from app.services.licensing import delivery

from ..documents import TEMPLATES, _china, doc_date, doc_datetime

# The documents are read by the archive job, not by a user: it may see every case's delivery record.
ARCHIVE = Principal(0, "archive", "电子档案", "admin", frozenset({"admin"}), frozenset(), None)
LEFT_OUT = "//script | " + " | ".join(f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"
                                       for name in ("no-print", "site-header", "skip-link", "flash"))


class ArchivedDocuments:
    """`archive.documents.Renderer` for the scheduler: renders inside a request of its own (no user)."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def notice_html(self, notice: NoticeView) -> str:
        """:raises LookupError: a notice kind with no printed layout (written by a newer version)."""
        template = TEMPLATES.get(notice.kind)
        if template is None:
            raise LookupError(f"no printed layout for notice kind {notice.kind!r}")
        with self._app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
            extra: dict[str, Any] = {"delivery": self._delivery(notice.case_no), "china": _china} \
                if notice.kind == "pickup" else {}
            page = render_template(template, notice=notice, c=notice.content, doc_date=doc_date,
                                   doc_datetime=doc_datetime, **extra)
        return self_contained(page, Path(str(self._app.static_folder)))

    def licence_verify_url(self, number: str) -> str:
        """Where the licence's QR leads, `{sig}` standing for its short signature, on the site's public
        address (PUBLIC_URL; there is no request to take it from)."""
        with self._app.test_request_context("/", base_url=str(self._app.config.get("PUBLIC_URL") or "") or None):
            return url_for("licences.verify", number=number, sig="{sig}", _external=True).replace("%7Bsig%7D", "{sig}")

    def _delivery(self, case_no: str) -> delivery.DeliveryView | None:
        ctx = self._app.extensions["banjian"]
        try:
            return delivery.for_case(ctx, ARCHIVE, case_no).delivery
        except CaseNotFound:
            return None


def self_contained(page: str, static: Path) -> str:
    """`page` with its style sheets inlined and the screen chrome (header, tools, scripts) removed."""
    root = lxml_html.document_fromstring(page)
    for element in root.xpath(LEFT_OUT):
        element.drop_tree()
    for link in root.xpath("//link[@rel='stylesheet']"):
        href = str(link.get("href") or "")
        name = href.split("?", 1)[0].removeprefix("/static/")
        style = lxml_html.Element("style")
        style.text = (static / name).read_text(encoding="utf-8")
        if link.get("media"):
            style.set("media", str(link.get("media")))
        link.addprevious(style)
        link.drop_tree()
    for anchor in root.xpath("//a[starts-with(@href, '/')]"):  # a link into this site would lead nowhere from the archive
        anchor.attrib.pop("href")
    return "<!doctype html>\n" + lxml_html.tostring(root, encoding="unicode")


def install(app: Flask) -> None:
    app.extensions["banjian"].documents = ArchivedDocuments(app)
