"""Item template and sample files are typed by their bytes: PDF, PNG, JPEG, Word and Excel (both the
97–2003 container, told apart by the name, and Office Open XML, told apart by the parts inside)."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.services.admin.item_files import clean_name, sniff

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504


def office_zip(*parts: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in parts:
            archive.writestr(part, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "name", "expected"), [
    (b"%PDF-1.7\n", "a.pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n....", "a.png", "image/png"),
    (b"\xff\xd8\xff\xe0....", "a.jpg", "image/jpeg"),
    (OLE2, "申请表.doc", "application/msword"),
    (OLE2, "清单.XLS", "application/vnd.ms-excel"),
    (OLE2, "unknown.bin", None),  # the container alone does not say Word or Excel
    (office_zip("[Content_Types].xml", "word/document.xml"), "a.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (office_zip("[Content_Types].xml", "xl/workbook.xml"), "a.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (office_zip("readme.txt"), "a.docx", None),  # a plain zip is not a document
    (b"PK\x03\x04 not really a zip", "a.docx", None),
    (b"<html><script>", "a.pdf", None),
])
def test_the_bytes_decide_the_type(tmp_path, content, name, expected):
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert sniff(path, name) == expected


def test_names_lose_paths_and_gain_the_types_extension():
    assert clean_name("../../etc/范本.pdf", "application/pdf") == "范本.pdf"
    assert clean_name("form.html", "application/pdf") == "form.html.pdf"
    assert clean_name("photo.JPEG", "image/jpeg") == "photo.JPEG"
