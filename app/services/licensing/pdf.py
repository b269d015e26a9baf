"""The e-licence as a PDF: the page's HTML (rendered by the web layer from templates/licences/pdf.html)
through WeasyPrint, with the signed facts attached as `licence.json` so an uploaded copy can be checked
against the record; the QR code is a segno PNG. No PDF or QR encoding is written here.

WeasyPrint needs Pango (system library) and CJK fonts (Debian fonts-noto-cjk); it is imported on first use
so the rest of the app runs without them, and a missing library is a clear `PdfUnavailable`.
"""

from __future__ import annotations

import base64
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import segno

from app.errors import DomainError

ATTACHMENT = "licence.json"


class PdfUnavailable(DomainError):
    """WeasyPrint or its system libraries (Pango, fonts) are missing on this host."""

    status = 503


def qr_png(url: str) -> bytes:
    """The verification URL as a QR PNG: error correction M, large modules so that print and the test's
    decoder (zxing-cpp) read it reliably."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def embedded(facts: dict[str, Any], signature: str, key_id: str) -> bytes:
    return json.dumps({"facts": facts, "signature": signature, "key_id": key_id},
                      ensure_ascii=False, sort_keys=True).encode("utf-8")


def render(html: str, facts: dict[str, Any], signature: str, key_id: str, title: str) -> bytes:
    """:raises PdfUnavailable:"""
    try:
        import weasyprint  # lazy: needs Pango at import time
    except (ImportError, OSError) as exc:
        raise PdfUnavailable("PDF 生成组件不可用（需安装 WeasyPrint 与 Pango）/ WeasyPrint or Pango missing: "
                             f"{exc}") from exc
    attachment = weasyprint.Attachment(string=embedded(facts, signature, key_id).decode("utf-8"),
                                       name=ATTACHMENT, description="signed licence facts")
    document = weasyprint.HTML(string=html).render()
    document.metadata.title = title
    pdf = document.write_pdf(attachments=[attachment])
    assert isinstance(pdf, bytes)
    return pdf


def read_embedded(pdf: bytes) -> dict[str, Any] | None:
    """The facts a PDF carries (our attachment), or None if it is not one of ours or unreadable."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        files = reader.attachments.get(ATTACHMENT) or []
        if not files:
            return None
        data = json.loads(files[0].decode("utf-8"))
    except (PdfReadError, ValueError, KeyError, OSError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def licence_pdf(facts: dict[str, Any], signature: str, algorithm: str, verify_url: str,
                seal_png: bytes | None) -> bytes:
    """The licence page (A4, the department's seal or a placeholder, the QR to `verify_url`) as a PDF.

    :raises PdfUnavailable:
    """
    html = _templates().get_template("licence.html").render(
        f=facts, signature=signature, algorithm=algorithm, qr=data_uri(qr_png(verify_url)),
        seal=data_uri(seal_png) if seal_png else None)
    return render(html, facts, signature, str(facts.get("key_id") or ""),
                  f"{facts.get('licence_type')} {facts.get('number')}")


def seal_of(upload_dir: Path, department_code: str) -> bytes | None:
    """The department's uploaded seal (PNG at <upload dir>/seals/<code>.png), None if none was uploaded."""
    path = upload_dir / "seals" / f"{department_code}.png"
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


@lru_cache(maxsize=1)
def _templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                              autoescape=True)
