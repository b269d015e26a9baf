"""Helpers for the staff page tests: signing in through the login form, posting forms with the page's
CSRF token, reading what a page shows."""

from __future__ import annotations

import html
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.e2e.flows import apply, case, task_id

from .signin import TOKEN, sign_in

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


class Browser:
    """A signed-in test client that keeps the last CSRF token it saw."""

    def __init__(self, app: Flask, username: str, lang: str = "zh") -> None:
        self.client: FlaskClient = app.test_client()
        self.headers = EN if lang == "en" else ZH
        self.token = ""
        sign_in(self.client, username, headers=self.headers)

    def get(self, url: str, **kwargs: Any) -> Any:
        resp = self.client.get(url, headers=self.headers, **kwargs)
        self._remember(resp)
        return resp

    def post(self, url: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kwargs: Any) -> Any:
        if not self.token:
            self.get("/staff/inbox")
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        fields.append(("csrf_token", self.token))
        resp = self.client.post(url, headers=self.headers, data=_multi(fields), **kwargs)
        self._remember(resp)
        return resp

    def _remember(self, resp: Any) -> None:
        if resp.mimetype == "text/html":
            match = TOKEN.search(resp.get_data(as_text=True))
            if match:
                self.token = match.group(1)


def _multi(fields: list[tuple[str, Any]]) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict([(k, v) for k, v in fields])


def text(resp: Any) -> str:
    """The page's HTML with entities decoded, for `in` checks on what a user reads."""
    return html.unescape(resp.get_data(as_text=True))


def main_text(resp: Any) -> str:
    """The visible text of <main>, tags removed and whitespace collapsed."""
    page = resp.get_data(as_text=True)
    main = page[page.find("<main"):page.find("</main>")]
    main = re.sub(r"<script.*?</script>", " ", main, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def flashes(resp: Any) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<div class="flash[^"]*" role="status">(.*?)</div>',
                                                   resp.get_data(as_text=True), flags=re.S)]


def rows(resp: Any) -> list[str]:
    """The case numbers in the inbox table, in order."""
    body = resp.get_data(as_text=True)
    table = body[body.find("<tbody>"):body.find("</tbody>")] if "<tbody>" in body else ""
    return re.findall(r'<a href="/staff/(?:tasks|cases)/[^"]+">([A-Z]+\d+)</a>', table)


def count(resp: Any, view: str) -> int:
    """The number on a view's tab."""
    body = resp.get_data(as_text=True)
    match = re.search(rf'view={view}[^"]*"[^>]*>[^<]*<span class="count"[^>]*>(\d+)</span>', body)
    assert match, f"no tab for {view}"
    return int(match.group(1))


def open_task(api: Any, case_no: str, key: str, department: str | None = None) -> str:
    return task_id(api, case_no, key, department)


def status(api: Any, case_no: str) -> str:
    return str(case(api, case_no)["status"])


__all__ = ["EN", "ZH", "Browser", "apply", "case", "count", "flashes", "main_text", "open_task", "rows", "status",
           "text"]
