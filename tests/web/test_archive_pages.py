"""The electronic archive pages: search, a package's page, download, the check (a changed byte, a missing
file), the retention list, and nobody but archivists and administrators."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from app.services.archive import builder
from tests.integration.test_archive_packages import close_cases, packages

from .staff_helpers import Browser, text

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def archivist(app) -> Browser:
    return Browser(app, "archivist")  # the demo's archivist


def _built(app, n: int = 2) -> list[str]:
    numbers = close_cases(app, n)
    assert builder.run_archive(app.extensions["banjian"]).built == n
    return numbers


def _path(app, case_no: str) -> Path:
    [p] = [p for p in packages(app) if p.path == f"{case_no}.zip"]
    return builder.archive_dir(app.extensions["banjian"]) / str(p.path)


def test_search_and_download(app, archivist):
    first, second = _built(app)
    listed = text(archivist.get("/archive/"))
    assert first in listed and second in listed and "电子档案" in listed
    only = text(archivist.get(f"/archive/?case_no={first}"))
    assert first in only and second not in only
    assert first in text(archivist.get("/archive/?from=2026-11-20&to=2026-11-20"))
    assert first not in text(archivist.get("/archive/?from=2026-11-21"))
    assert first not in text(archivist.get("/archive/?item=no-such-item"))
    assert archivist.get("/archive/?from=not-a-date").status_code == 400
    page = text(archivist.get(f"/archive/packages/{first}"))
    assert "下载档案包" in page and hashlib.sha256(_path(app, first).read_bytes()).hexdigest() in page
    resp = archivist.get(f"/archive/packages/{first}/download")
    body = resp.data
    resp.close()  # send_file's open file
    assert resp.status_code == 200 and body == _path(app, first).read_bytes()
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert archivist.get("/archive/packages/NOPE/download").status_code == 404


def test_check_detects_a_changed_byte_and_a_missing_file(app, archivist):
    changed, missing = _built(app)
    assert "档案包完整" in text(archivist.post(f"/archive/packages/{changed}/check"))

    path = _path(app, changed)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("metadata.json")
    data = bytearray(path.read_bytes())
    spot = info.header_offset + 30 + len(info.filename.encode()) + 5  # inside the member's data
    data[spot] ^= 0x01
    path.write_bytes(bytes(data))
    page = text(archivist.post(f"/archive/packages/{changed}/check"))
    assert "档案包已被改动" in page and "metadata.json" in page and "SHA-256" in page

    path = _path(app, missing)
    with zipfile.ZipFile(path) as zf:
        kept = {name: zf.read(name) for name in zf.namelist() if name != "events.json"}
    with zipfile.ZipFile(path, "w") as zf:
        for name, body in kept.items():
            zf.writestr(name, body)
    page = text(archivist.post(f"/archive/packages/{missing}/check"))
    assert "档案包已被改动" in page and "缺失" in page and "events.json" in page

    path.unlink()
    assert "档案包文件不存在" in text(archivist.post(f"/archive/packages/{missing}/check"))
    assert archivist.get(f"/archive/packages/{missing}/download").status_code == 404


def test_retention_list(app, clock, archivist):
    [case_no] = _built(app, 1)
    assert case_no not in text(archivist.get("/archive/disposal"))
    [package] = packages(app)
    clock.advance(package.retention_until - clock.now() + timedelta(days=1))
    listed = text(archivist.get("/archive/disposal"))
    assert case_no in listed and "不会自动删除" in listed
    assert _path(app, case_no).exists()


def test_only_archivists_and_admins(app, archivist):
    [case_no] = _built(app, 1)
    assert case_no in text(Browser(app, "admin").get("/archive/"))
    for user in ("market_clerk", "company", "supervisor"):
        who = Browser(app, user)
        for url in ("/archive/", f"/archive/packages/{case_no}", f"/archive/packages/{case_no}/download",
                    "/archive/disposal"):
            assert who.get(url).status_code == 403, (user, url)
        assert who.post(f"/archive/packages/{case_no}/check").status_code == 403
