"""The archive package's format: a zip whose `manifest.json` holds the SHA-256 of every other member,
and the check that recomputes it. No database here: the builder gathers the entries, this writes them."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
CHUNK = 1024 * 1024


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).encode()


def manifest_of(entries: Mapping[str, bytes]) -> dict[str, Any]:
    return {"algorithm": "sha256",
            "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                      for name, data in sorted(entries.items())}}


def write_zip(target: Path, entries: Mapping[str, bytes], stamp: datetime) -> None:
    """Write `entries` and their manifest to `target`, fsynced. Every member carries `stamp` (the case's
    closing time), not the build time, so a rebuild after a kill writes the same bytes."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    members = {**entries, MANIFEST: to_json(manifest_of(entries))}
    with open(target, "wb") as raw:
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        raw.flush()
        os.fsync(raw.fileno())


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass
class CheckReport:
    package_found: bool = True
    package_sha256: str | None = None
    package_matches: bool = False  # the whole file's hash equals the one recorded when it was built
    manifest_readable: bool = True
    ok_files: int = 0
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # members the manifest does not name

    @property
    def intact(self) -> bool:
        return (self.package_found and self.package_matches and self.manifest_readable
                and not (self.changed or self.missing or self.unexpected))


def check_zip(path: Path, recorded_sha256: str | None) -> CheckReport:
    """Recompute the package's hash and every member's against the manifest."""
    if not path.is_file():
        return CheckReport(package_found=False, manifest_readable=False)
    report = CheckReport()
    report.package_sha256, _ = file_sha256(path)
    report.package_matches = report.package_sha256 == recorded_sha256
    try:
        with zipfile.ZipFile(path) as zf:
            _check_members(zf, report)
    except (zipfile.BadZipFile, OSError, ValueError):  # the directory itself is damaged
        report.manifest_readable = False
    return report


def _check_members(zf: zipfile.ZipFile, report: CheckReport) -> None:
    try:
        listed: dict[str, Any] = json.loads(zf.read(MANIFEST))["files"]
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
        report.manifest_readable = False
        return
    present = set(zf.namelist()) - {MANIFEST}
    for name, expected in sorted(listed.items()):
        if name not in present:
            report.missing.append(name)
            continue
        try:
            data = zf.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError):  # a changed byte that breaks the CRC or deflate
            report.changed.append(name)
            continue
        if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
            report.changed.append(name)
        else:
            report.ok_files += 1
    report.unexpected = sorted(present - set(listed))


def read_json_member(path: Path, name: str) -> Any:
    """A JSON member of the package, or None when the file, the member or its JSON cannot be read (the
    check reports which)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read(name))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError):
        return None
