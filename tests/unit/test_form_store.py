"""Stored forms are looked up and parsed once per (version, key); uploads are split into one BPMN and its forms, and a
zip is checked before anything is inflated."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from app.errors import InvalidInput
from app.forms import FormDefinitionError, FormRegistry
from app.forms.bundle import read_zip, split

FORM = json.dumps({"type": "default", "components": [{"type": "textfield", "key": "note", "id": "F"}]})


def zipped(*files: tuple[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files:
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_stored_form_or_its_absence_is_looked_up_once_per_version(tmp_path):
    registry = FormRegistry(tmp_path)
    loads: list[str | None] = []

    def load(text: str | None):
        def inner() -> str | None:
            loads.append(text)
            return text
        return inner

    assert registry.stored(1, "inline:step", load(None)) is None
    assert registry.stored(1, "inline:step", load(FORM)) is None  # a version never changes
    first = registry.stored(1, "visit.form", load(FORM))
    assert first is not None and first.field_keys() == {"note"}
    assert registry.stored(1, "visit.form", load("{ changed }")) is first
    assert loads == [None, FORM]
    with pytest.raises(FormDefinitionError, match="visit.form"):
        registry.stored(2, "visit.form", load("{ not json"))


def test_read_text_names_a_missing_form(tmp_path):
    (tmp_path / "a.form").write_text(FORM, encoding="utf-8-sig")
    assert FormRegistry(tmp_path).read_text("camunda-forms:deployment:a.form") == FORM
    with pytest.raises(FormDefinitionError, match="b.form"):
        FormRegistry(tmp_path).read_text("b.form")


def test_split_takes_one_bpmn_and_its_forms():
    bundle = split([("dir/p.bpmn", b"<x/>"), ("forms/a.form", b"{}"), ("b.json", b"{}")])
    assert (bundle.bpmn_name, bundle.bpmn, sorted(bundle.forms)) == ("p.bpmn", b"<x/>", ["a.form", "b.json"])
    assert split([("model.xml", b"<x/>"), ("a.form", b"{}")]).bpmn_name == "model.xml"
    for files, message in (([("a.form", b"{}")], "exactly one"), ([("a.bpmn", b""), ("b.bpmn", b"")], "a.bpmn"),
                           ([("a.bpmn", b""), ("x.exe", b"")], "x.exe"),
                           ([("a.bpmn", b""), ("x/a.form", b""), ("y/a.form", b"")], "a.form")):
        with pytest.raises(InvalidInput, match=message):
            split(files)


def test_a_zip_gives_its_files_without_folders_and_archiver_litter():
    data = zipped(("m/p.bpmn", b"<x/>"), ("m/a.form", FORM.encode()), ("__MACOSX/m/._p.bpmn", b"?"), ("m/.DS_Store", b"?"))
    assert [name for name, _ in read_zip(data, 1024)] == ["m/p.bpmn", "m/a.form"]


@pytest.mark.parametrize(("data", "message"), [
    (b"not a zip", "not a readable zip"),
    (zipped(("../p.bpmn", b"<x/>")), "outside"),
    (zipped(("/etc/p.bpmn", b"<x/>")), "outside"),
    (zipped(("C:/p.bpmn", b"<x/>")), "outside"),
    (zipped(*((f"{i}.form", b"{}") for i in range(201))), "at most 200"),
    (zipped(("p.bpmn", b"x" * 2048), method=zipfile.ZIP_STORED), "larger than 1024"),
])
def test_a_bad_zip_is_refused_with_a_reason(data, message):
    with pytest.raises(InvalidInput, match=message):
        read_zip(data, 1024)


def test_a_highly_compressed_member_is_refused_before_it_is_inflated():
    bomb = zipped(("p.bpmn", b"\0" * (3 * 1024 * 1024)))
    with pytest.raises(InvalidInput, match="compressed"):
        read_zip(bomb, 5 * 1024 * 1024)


def test_a_member_larger_than_its_header_says_is_refused():
    data = bytearray(zipped(("p.bpmn", b"y" * 100), method=zipfile.ZIP_STORED))
    # Shrink the declared size in both headers: reading stops one byte past what is declared.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at:at + 4] = (10).to_bytes(4, "little")
    with pytest.raises(InvalidInput, match="p.bpmn"):
        read_zip(bytes(data), 1024)
