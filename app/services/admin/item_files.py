"""Template, sample and result-sample files of items (申请表单范本、示范文本、办理结果样本): stored by content
hash outside the web root, under the upload folder's `items/` (apart from the materials, whose sweep
reads only its own two-character hash folders), typed by their bytes, size-limited. Files that no
revision of any item names are removed by the hourly clean-up after the grace period (`sweep`).

A revision names a file by `{"sha256", "filename", "content_type", "size"}`; the bytes are only ever
served for a file that a published revision of an active item names (the guide) or, to admins, that
any revision of the item names."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from app.errors import InvalidInput
from app.models import ItemRevision
from app.services.context import ServiceContext
from app.services.documents.cleanup import sweep_files
from app.services.documents.files import CHUNK, MB, TEMP_PREFIX, FileStore

MAX_ITEM_FILE_BYTES = 10 * MB
FOLDER = "items"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .doc and .xls (Office 97–2003)
# The extension each type is offered with on download.
EXTENSIONS = {
    "application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
TYPES_MESSAGE = "只接受 PDF、Word、Excel、PNG、JPEG 文件 / only PDF, Word, Excel, PNG and JPEG files"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sweep(ctx: ServiceContext, cutoff: datetime, now: datetime) -> tuple[int, int]:
    """Remove the uploaded item files written before `cutoff` that no revision names (an upload whose
    draft was never saved); returns (removed, failed). Superseded revisions keep theirs: the history
    offers them."""
    return sweep_files(ctx, store_for(ctx).root, cutoff, now, referenced)


def referenced(ctx: ServiceContext, hashes: set[str]) -> set[str]:
    """Which of `hashes` a revision names (its materials' templates and samples, its result sample)."""
    found: set[str] = set()
    with ctx.uow() as uow:
        for snapshot in uow.session.scalars(select(ItemRevision.snapshot)):
            found |= _hashes_in(snapshot) & hashes
    return found


def _hashes_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        own = {value["sha256"]} if isinstance(value.get("sha256"), str) else set()
        return own.union(*(_hashes_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_hashes_in(v) for v in value))
    return set()


def store_for(ctx: ServiceContext) -> FileStore:
    return FileStore(ctx.upload_dir / FOLDER, MAX_ITEM_FILE_BYTES)


def put(ctx: ServiceContext, stream: IO[bytes], filename: str, field: str = "file") -> dict[str, Any]:
    """Store an uploaded template or sample; returns the reference a revision keeps.

    :raises InvalidInput: empty, larger than 10 MB, or not a PDF, Word, Excel, PNG or JPEG file.
    """
    store = store_for(ctx)
    store.root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp_name = tempfile.mkstemp(dir=store.root, prefix=TEMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                store.check_size(size, None, field)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput("empty file", [{"field": field, "message": "文件为空 / empty file"}])
        content_type = sniff(Path(tmp_name), filename)
        if content_type is None:
            raise InvalidInput("unsupported file type", [{"field": field, "message": TYPES_MESSAGE}])
        written_at = ctx.clock.now().timestamp()  # the sweep's grace counts from here, on the app's clock
        os.utime(tmp_name, (written_at, written_at))
        target = store.path(digest.hexdigest())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp_name, target)
        return {"sha256": digest.hexdigest(), "filename": clean_name(filename, content_type),
                "content_type": content_type, "size": size}
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def checked(ctx: ServiceContext, ref: dict[str, Any] | None, field: str) -> tuple[dict[str, Any] | None, list[
        dict[str, str]]]:
    """A reference a client sent back, with its type and size read again from the stored bytes (the
    client's word is only the hash and the name); an error if no such file was uploaded."""
    if not ref:
        return None, []
    sha = str(ref.get("sha256") or "")
    path = store_for(ctx).path(sha) if SHA256.match(sha) else None
    content_type = sniff(path, str(ref.get("filename") or "")) if path is not None and path.is_file() else None
    if path is None or content_type is None:
        return None, [{"field": field, "message": "文件不存在，请重新上传 / file not found, upload it again"}]
    return {"sha256": sha, "filename": clean_name(str(ref.get("filename") or "file"), content_type),
            "content_type": content_type, "size": path.stat().st_size}, []


def sniff(path: Path, filename: str) -> str | None:
    """The type the bytes show. Office 97–2003 files share one container, so for those (only) the
    name's extension tells Word from Excel."""
    with path.open("rb") as f:
        head = f.read(16)
    for magic, content_type in ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"),
                                (b"\xff\xd8\xff", "image/jpeg")):
        if head.startswith(magic):
            return content_type
    if head.startswith(OLE2):
        ext = os.path.splitext(filename)[1].lower()
        return {".doc": "application/msword", ".xls": "application/vnd.ms-excel"}.get(ext)
    if head.startswith(b"PK\x03\x04"):
        return _office_open_xml(path)
    return None


def _office_open_xml(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if "xl/workbook.xml" in names:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def clean_name(filename: str, content_type: str) -> str:
    """No path, no control characters, and the extension of the type the bytes showed."""
    name = os.path.basename(filename.replace("\\", "/")).strip() or "file"
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    ext = EXTENSIONS.get(content_type, "")
    allowed = {ext, ".jpeg"} if ext == ".jpg" else {ext}
    return name if os.path.splitext(name)[1].lower() in allowed else name + ext


def refs(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file a revision names: each material's template and sample, and the result sample."""
    found = [m.get(k) for m in snapshot.get("materials") or [] if isinstance(m, dict) for k in ("template", "sample")]
    found.append(snapshot.get("result_sample_file"))
    return [r for r in found if isinstance(r, dict) and r.get("sha256")]
