"""Small steps of the browser flow tests: tiny real files, finding a task in the inbox, labelled fields,
the keyboard walk to the outcome buttons.

Everything locates by role and label (the Chinese default UI), the way a user finds things.
"""

from __future__ import annotations

import io
import json
import re
import struct
import urllib.request
import zlib
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .conftest import assert_accessible

TIMEOUT = 10_000  # ms: generous for a loaded CI machine, never a fixed sleep


# -- files --------------------------------------------------------------------------------------------

def tiny_pdf(path: Path, text: str = "banjian test") -> Path:
    """A one-page PDF with a correct cross-reference table (opens in any reader)."""
    stream = f"BT /F1 18 Tf 40 100 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def tiny_png(path: Path, width: int = 16, height: int = 12) -> Path:
    """A small valid RGB PNG (a blue square with a red stripe)."""
    rows = b"".join(b"\x00" + b"".join(b"\xd0\x20\x20" if y < 3 else b"\x20\x50\xc0" for _x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


from tests.e2e.flows import pdf  # noqa: E402

# -- the JSON API, to set a case up quickly where the browser is not what is tested ---------------------

def api(base: str, method: str, path: str, user: str | None = None, body: Any = None) -> Any:
    """One call to /api/v1 as `user` (a bearer token from the demo password); the decoded JSON answer."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if user:
        headers["Authorization"] = "Bearer " + api(base, "POST", "/auth/token", None,
                                                   {"username": user, "password": "demo1234"})["token"]
    data = json.dumps(body).encode() if body is not None else None
    if method == "POST" and path == "/cases":  # an application carries its required materials as files
        data, headers["Content-Type"] = application_parts(base, body)
    request = urllib.request.Request(f"{base}/api/v1{path}", method=method, headers=headers, data=data)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our own loopback server)
        return json.loads(response.read() or b"null")


def application_parts(base: str, body: dict[str, Any]) -> tuple[bytes, str]:
    """POST /cases as multipart: the body as the `json` part and a small PDF for each required material
    of the item (the API refuses an application without them)."""
    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    fields = MultiDict([("json", json.dumps(body))])
    for i in required_materials(base, body["item_code"]):
        fields.add(f"material-{i}", FileStorage(io.BytesIO(pdf(f"m{i}")), filename=f"m{i}.pdf",
                                                content_type="application/pdf"))
    boundary, encoded = encode_multipart(fields)
    return encoded, f"multipart/form-data; boundary={boundary}"


def required_materials(base: str, item: str) -> list[int]:
    """The indexes of an item's required materials, from its public guide."""
    with urllib.request.urlopen(f"{base}/api/v1/items/{item}", timeout=30) as response:  # noqa: S310
        guide = json.loads(response.read())
    return [i for i, m in enumerate(guide.get("materials") or []) if m.get("required")]


def api_complete(base: str, case_no: str, task_key: str, user: str, data: dict[str, Any]) -> None:
    """Complete the case's one open task `task_key` as `user`."""
    tasks = [t for t in api(base, "GET", f"/cases/{case_no}", "admin")["tasks"] if t["task_key"] == task_key]
    assert len(tasks) == 1, tasks
    api(base, "POST", f"/tasks/{tasks[0]['id']}/complete", user, {"data": data})


# -- locating -----------------------------------------------------------------------------------------

def field(scope: Any, label: str) -> Any:
    """The input labelled exactly `label` (a required marker " *" and screen-reader text may follow)."""
    return scope.get_by_label(re.compile(r"^\s*" + re.escape(label) + r"(\s*\*.*)?\s*$", re.S))


def outcome(page: Any, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def flash(page: Any) -> Any:
    return page.locator(".flash").first


def check_title(page: Any) -> str:
    """The page's own part of the title ("<page> · 办件") is not empty."""
    title = page.title().strip()
    assert title.rsplit("·", 1)[0].strip(), f"no page title on {page.url}: {title!r}"
    return title


def snap(shots: Any, page: Any, label: str) -> None:
    """A screenshot of the page, which must have a title."""
    check_title(page)
    shots(page, label)


def open_task(page: Any, base: str, case_no: str, step: str, shots: Any = None, who: str = "staff",
              view: str = "group") -> None:
    """From the inbox: the view's tab, search for the case, open the row of `step` (the task page).
    With `shots`, the filtered inbox is photographed on the way as "<who>-inbox"."""
    page.goto(f"{base}/staff/inbox")
    expect(page.get_by_role("heading", name="待办", exact=True)).to_be_visible(timeout=TIMEOUT)
    check_title(page)
    tabs = {"group": "部门待认领", "mine": "我的待办"}
    page.get_by_role("navigation", name="待办分类").get_by_role("link", name=re.compile("^" + tabs[view])).click()
    page.get_by_label("搜索", exact=True).fill(case_no)
    page.get_by_role("button", name="筛选", exact=True).click()
    row = page.get_by_role("row").filter(has_text=case_no).filter(has_text=step)
    expect(row).to_have_count(1, timeout=TIMEOUT)
    assert_accessible(page)  # the filter form
    if shots is not None:
        snap(shots, page, f"{who}-inbox")
    row.get_by_role("link", name=case_no, exact=True).click()
    expect(page.get_by_role("heading", name="办理本环节")).to_be_visible(timeout=TIMEOUT)
    check_title(page)


def keyboard_reaches_outcomes(page: Any, outcomes: list[str], max_presses: int = 60) -> list[str]:
    """Focus the task form's first field, then Tab until every outcome button (or the form's one submit
    button, on a step without outcomes) has had the focus.

    Returns the outcome labels in the order the keyboard reached them; fails with what had focus when the
    bound is hit.
    """
    first = page.locator("form.task-form").locator(
        "input:not([type=hidden]):visible, select:visible, textarea:visible").first
    first.focus()
    reached: list[str] = []
    seen: list[str] = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        active = page.evaluate("""() => { const e = document.activeElement;
            return {tag: e.tagName, text: (e.innerText || '').trim(), name: e.getAttribute('name') || '',
                    outcome: e.tagName === 'BUTTON' && !!e.closest('form.task-form .outcomes')}; }""")
        seen.append(f"{active['tag']}[{active['name']}]{active['text'][:12]}")
        if active["outcome"] and active["text"] not in reached:
            reached.append(active["text"])
        if set(outcomes) <= set(reached):
            return reached
    raise AssertionError(f"keyboard did not reach all of {outcomes} in {max_presses} Tabs; reached {reached}; "
                         f"focus went: {' → '.join(seen)}")


def form_page(page: Any) -> None:
    """Every page with a form: a title and a label for each field."""
    check_title(page)
    assert_accessible(page)


def open_my_case(page: Any, base: str, case_no: str, status: str, shots: Any = None) -> None:
    """The applicant: 我的办件 in the header, the case's row shows `status`, open the case."""
    page.goto(f"{base}/items")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的办件", exact=True).click()
    expect(page.get_by_role("heading", name="我的办件", level=1)).to_be_visible(timeout=TIMEOUT)
    row = page.get_by_role("row").filter(has_text=case_no)
    expect(row).to_contain_text(status)
    if shots is not None:
        snap(shots, page, "builder-my-cases")
    row.get_by_role("link", name=case_no, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case_no, timeout=TIMEOUT)
