"""The electronic archive in a real browser: an archivist signs in, sees only the archive in the menu,
finds a case's package by its number, checks it (intact), and after one byte of the package is changed on
disk the check names the file that changed."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from app.clock import ManualClock
from app.services.archive import builder
from app.services.identity.users import create_user
from tests.conftest import START, build_app, wipe
from tests.integration.test_archive_packages import close_cases

from .conftest import assert_accessible, serving, sign_in


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The app with demo data, closed cases and their built packages, served on 127.0.0.1."""
    from app.services.demo import load_demo

    db = tmp_path_factory.mktemp("archive") / "archive.sqlite3"
    app = build_app(f"sqlite:///{db}", ManualClock(START))
    ctx = app.extensions["banjian"]
    load_demo(ctx)
    create_user(ctx, "keeper", "demo1234", "archivist", full_name="档案员乙")
    close_cases(app, 3)
    assert builder.run_archive(ctx).built == 3
    try:
        with serving(app) as base:
            yield base, app
    finally:
        wipe(app)


def test_an_archivist_finds_a_package_checks_it_and_sees_which_file_changed(browser, archive_server, shots):
    base, app = archive_server
    page = sign_in(browser, base, "keeper")
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link").all_inner_texts() == ["电子档案"]  # no case-handling menus
    nav.get_by_role("link", name="电子档案").click()
    assert_accessible(page)
    page.get_by_label("办件编号").fill("AR000001")
    page.get_by_role("search").get_by_role("button").click()
    table = page.locator("#packages")
    assert table.get_by_role("row").count() == 2  # the header and the one package
    shots(page, "found")
    table.get_by_role("link", name="AR000001").click()
    assert page.get_by_role("heading", level=1).inner_text().endswith("AR000001")
    page.get_by_role("button", name="校验档案包").click()
    assert "档案包完整" in page.locator("#check").inner_text()
    shots(page, "intact")

    path = builder.archive_dir(app.extensions["banjian"]) / "AR000001.zip"
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("events.json")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len(info.filename.encode()) + 3] ^= 0x20  # one byte inside events.json
    path.write_bytes(bytes(data))

    page.get_by_role("button", name="校验档案包").click()
    result = page.locator("#check")
    assert page.get_by_role("alert").inner_text() == "档案包已被改动。"
    assert result.locator("li.changed").all_inner_texts() == ["已改动： events.json"]
    assert "SHA-256" in result.inner_text()
    shots(page, "changed")
    page.context.close()
