"""Helpers for the portal, file and window-intake tests: forms with their CSRF token, signing in,
registering, real small PDF and PNG files, and valid identity numbers computed from the standards."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from app.services.identity.identity import credit_code_check, resident_id_check

from .signin import csrf_token as token
from .signin import sign_in as sign_in  # the tests import it from here

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
FOOD = "420100-SCJG-001"
FOOD_FORM = {
    "business_name": "武汉市江岸区老街坊餐饮店", "credit_code": "92420102MA4K12345X",
    "legal_representative": "李四", "business_address": "武汉市江岸区沿江大道100号", "premises_area": "85",
    "main_format": "catering", "business_categories": ["hot_food", "cold_food"],
    "food_safety_manager": "李四", "contact_name": "李四", "contact_phone": "13800138000",
}
# Known-valid numbers (GB 11643-1999 and GB 32100-2015 examples).
KNOWN_ID = "11010519491231002X"
KNOWN_CREDIT = "91350100M000100Y43"


def resident_id(region: str = "420102", born: str = "19900307", seq: str = "123") -> str:
    first = region + born + seq
    return first + resident_id_check(first)


def credit_code(first17: str = "91420100MA4K7ABC1") -> str:
    return first17 + credit_code_check(first17)


def post(client: FlaskClient, path: str, data: dict[str, Any], form_page: str | None = None,
         headers: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
    """POST a form from `form_page` (default: the same path) with its CSRF token; multipart bodies are
    encoded in memory (the test client would spool a large one to a temporary file it never closes)."""
    data = {**data, "csrf_token": token(client, form_page or path, headers)}
    if kwargs.pop("content_type", None) == "multipart/form-data":
        boundary, body = encode_multipart(MultiDict([(k, v) for k, vs in data.items()
                                                     for v in (vs if isinstance(vs, list) else [vs])]))
        return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                           headers=headers or {}, **kwargs)
    return client.post(path, data=data, headers=headers or {}, **kwargs)


def sign_out(client: FlaskClient) -> None:
    client.post("/logout", data={"csrf_token": token(client, "/items")})


def register(client: FlaskClient, username: str, *, kind: str = "person", phone: str = "13912345678",
             number: str | None = None, name: str = "张三", headers: dict[str, str] | None = None) -> TestResponse:
    if kind == "person":
        data = {"kind": "person", "name": name, "id_number": number or resident_id()}
    else:
        data = {"kind": "company", "company_name": name, "credit_code": number or credit_code(),
                "contact_name": "王五"}
    data.update(username=username, password="secret-pass-1", phone=phone)
    return post(client, f"/register?kind={kind}", data, headers=headers)


def new_applicant(client: FlaskClient, username: str, **kwargs: Any) -> FlaskClient:
    resp = register(client, username, **kwargs)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client


def pdf_bytes(text: str = "banjian") -> bytes:
    """A small, well-formed one-page PDF (with a correct cross-reference table)."""
    stream = f"BT /F1 12 Tf 20 50 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A small valid RGB PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def upload(content: bytes, filename: str) -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=filename, content_type="application/octet-stream")


def text(resp: TestResponse) -> str:
    return resp.get_data(as_text=True)


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """Form values as a browser posts them (lists stay lists: werkzeug posts one field per value)."""
    return dict(values)


def food_files(pdf: bytes | None = None) -> dict[str, Any]:
    """One PDF for each of the six required materials of the food licence."""
    return {f"material-{i}": [upload(pdf or pdf_bytes(f"m{i}"), f"m{i}.pdf")] for i in range(6)}


def submit_food(client: FlaskClient, headers: dict[str, str] | None = None) -> str:
    """Apply for the food licence through the pages; returns the case number."""
    data = {**FOOD_FORM, **food_files(), "_action": "submit"}
    resp = post(client, f"/items/{FOOD}/apply", data, content_type="multipart/form-data", headers=headers)
    assert resp.status_code == 302, text(resp)
    return resp.headers["Location"].rsplit("/", 1)[1]
