"""The main navigation offers each role the pages it may open, and every link it offers opens."""

from __future__ import annotations

import re

import pytest

from tests.web.signin import sign_in

pytestmark = pytest.mark.usefixtures("demo")

ADMIN_PAGES = {"/design/processes", "/admin/items", "/admin/users", "/admin/calendar", "/admin/messages", "/admin/audit",
               "/archive/", "/licences", "/admin/ratings", "/ratings", "/statistics/", "/staff/window"}


def nav_links(client) -> set[str]:
    html = client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S)
    assert nav, "no main navigation"
    return set(re.findall(r'href="([^"]+)"', nav.group(0)))


@pytest.mark.parametrize(("user", "offered"), [
    ("admin", ADMIN_PAGES),
    ("designer", {"/design/processes"}),
    ("archivist", {"/archive/"}),
    ("market_clerk", {"/licences", "/staff/window"}),
    ("market_approver", {"/licences"}),
    ("market_head", {"/licences", "/statistics/"}),
    ("supervisor", {"/licences", "/ratings", "/statistics/"}),
])
def test_each_role_is_offered_exactly_the_design_and_admin_pages_it_may_open(app, demo, user, offered):
    client = sign_in(app.test_client(), user)
    links = nav_links(client)
    assert links & ADMIN_PAGES == offered
    for link in offered:
        resp = client.get(link, follow_redirects=True)
        assert resp.status_code == 200, link
    for link in ADMIN_PAGES - offered:  # the pages not offered are refused, not merely hidden
        assert client.get(link, follow_redirects=True).status_code == 403, link
