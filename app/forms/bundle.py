"""A BPMN file with the form files it references, as uploaded together: several files, or one zip.

Nothing is written to disk: a zip member's name is only used to tell the BPMN from the forms (and a form
by the file name its formKey names), but names that could escape a folder are refused all the same, so
no archive that would be dangerous to unpack elsewhere is taken.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.errors import InvalidInput

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")
FORM_SUFFIXES = (".form", ".json")
MAX_MEMBERS = 200
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_RATIO = 200  # a member that inflates more than this is a zip bomb, not a BPMN file


@dataclass
class Bundle:
    bpmn_name: str
    bpmn: bytes
    forms: dict[str, bytes] = field(default_factory=dict)


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, [{"field": "file", "message": message}])


def is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def split(files: Sequence[tuple[str, bytes]]) -> Bundle:
    """One BPMN file and its forms from named uploads.

    :raises InvalidInput: not exactly one BPMN file, or a file that is neither BPMN nor a form.
    """
    bpmn = [(n, c) for n, c in files if n.lower().endswith(BPMN_SUFFIXES)]
    if not bpmn:  # a BPMN file saved under another name (".xml", say): the one file that is not a form
        bpmn = [(n, c) for n, c in files if not n.lower().endswith(FORM_SUFFIXES)][:2]
    others = [f for f in files if f not in bpmn]
    if len(bpmn) != 1:
        raise _refuse(f"expected exactly one .bpmn file, got {len(bpmn)}"
                      + (f": {', '.join(n for n, _ in bpmn)}" if bpmn else ""))
    strange = [n for n, _ in others if not n.lower().endswith(FORM_SUFFIXES)]
    if strange:
        raise _refuse(f"neither a .bpmn nor a form file (.form, .json): {', '.join(strange)}")
    forms: dict[str, bytes] = {}
    for name, content in others:
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if base in forms:
            raise _refuse(f"two form files named {base}")
        forms[base] = content
    return Bundle(bpmn[0][0].replace("\\", "/").rsplit("/", 1)[-1], bpmn[0][1], forms)


def read_zip(data: bytes, max_member_bytes: int) -> list[tuple[str, bytes]]:
    """The files of a zip archive (folders skipped), checked before anything is inflated.

    :raises InvalidInput: not a zip, too many or too large members, a suspicious compression ratio, an
        encrypted member, or a name with an absolute path or `..`.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _refuse(f"not a readable zip archive: {exc}") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_members(members, max_member_bytes)
        files: list[tuple[str, bytes]] = []
        for member in members:
            if _ignored(member.filename):
                continue
            try:
                with archive.open(member) as handle:  # read one byte more than declared: a lying header
                    content = handle.read(member.file_size + 1)
            except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError, EOFError) as exc:
                raise _refuse(f"{member.filename}: cannot be read from the archive: {exc}") from None
            if len(content) > member.file_size:
                raise _refuse(f"{member.filename}: larger than the archive says")
            files.append((member.filename, content))
    return files


def _check_members(members: list[zipfile.ZipInfo], max_member_bytes: int) -> None:
    if len(members) > MAX_MEMBERS:
        raise _refuse(f"the archive has {len(members)} files; at most {MAX_MEMBERS}")
    if sum(m.file_size for m in members) > MAX_TOTAL_BYTES:
        raise _refuse(f"the archive unpacks to more than {MAX_TOTAL_BYTES} bytes")
    for m in members:
        name = m.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or (len(name) > 1 and name[1] == ":"):
            raise _refuse(f"{m.filename}: a path outside the archive's folder")
        if m.flag_bits & 0x1:
            raise _refuse(f"{m.filename}: encrypted members are not supported")
        if m.file_size > max_member_bytes:
            raise _refuse(f"{m.filename}: larger than {max_member_bytes} bytes")
        if m.file_size > MAX_RATIO * max(m.compress_size, 1) and m.file_size > 1024 * 1024:
            raise _refuse(f"{m.filename}: compressed {m.file_size // max(m.compress_size, 1)}:1, refused")


def _ignored(name: str) -> bool:
    """Files an archiver adds by itself (macOS resource forks, Finder metadata)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name.startswith("__MACOSX/") or base.startswith(".") or base == "Thumbs.db"
