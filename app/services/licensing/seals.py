"""The departments' seal images (印章) drawn on their licences: a PNG per department, uploaded by an
administrator, kept with the uploads (outside the web root) at <upload dir>/seals/<code>.png."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from sqlalchemy import select

from app.errors import Forbidden, InvalidInput, NotFound
from app.models import Department
from app.services import audit
from app.services.context import ServiceContext
from app.services.identity.principal import Principal

MAX_BYTES = 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def save_seal(ctx: ServiceContext, principal: Principal, department_code: str, png: bytes) -> None:
    """Store (or replace) a department's seal.

    :raises Forbidden: not an administrator.
    :raises NotFound: no such department.
    :raises InvalidInput: not a PNG image of at most 1 MB and 2000×2000 pixels.
    """
    if not principal.is_admin:
        raise Forbidden("只有管理员可上传印章 / administrators only")
    with ctx.uow(write=True) as uow:
        dept_id = uow.session.scalar(select(Department.id).where(Department.code == department_code))
        if dept_id is None:
            raise NotFound(f"部门不存在 / department '{department_code}' not found")
        _check_png(png)
        replaced = seal_path(ctx, department_code).exists()
        folder = ctx.upload_dir / "seals"
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{department_code}.png.tmp"
        temp.write_bytes(png)
        os.replace(temp, folder / f"{department_code}.png")  # a licence rendered meanwhile sees old or new, whole
        # The audit entry names the department by id, as the department pages link to its changes.
        audit.record(uow.session, principal, ctx.clock.now(), "department.seal", "department", dept_id,
                     f"印章{'更换' if replaced else '上传'} / seal {'replaced' if replaced else 'uploaded'}: "
                     f"{department_code}", None, {"seal_sha256": hashlib.sha256(png).hexdigest(), "bytes": len(png)})
        uow.commit()


def seal_path(ctx: ServiceContext, department_code: str) -> Path:
    return ctx.upload_dir / "seals" / f"{Path(department_code).name}.png"


def seal_png(ctx: ServiceContext, principal: Principal, department_code: str) -> bytes | None:
    """The department's seal image for the administrators' preview; None when it has none.

    :raises Forbidden: not an administrator.
    """
    if not principal.is_admin:
        raise Forbidden("只有管理员可查看印章 / administrators only")
    path = seal_path(ctx, department_code)
    return path.read_bytes() if path.is_file() else None


def _check_png(png: bytes) -> None:
    bad = InvalidInput("印章须为不超过 1 MB 的 PNG 图片 / the seal must be a PNG of at most 1 MB",
                       [{"field": "file", "message": "须为不超过 1 MB、2000×2000 像素的 PNG 图片 / PNG, ≤ 1 MB"}])
    if len(png) > MAX_BYTES or not png.startswith(PNG_MAGIC):
        raise bad
    from PIL import Image, UnidentifiedImageError  # Pillow comes with WeasyPrint

    try:
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            if image.width > 2000 or image.height > 2000:
                raise bad
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise bad from exc
