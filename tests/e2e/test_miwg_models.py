"""The 21 BPMN MIWG reference models: each deploys, or is refused with errors naming its elements."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

MIWG = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "miwg"
FILES = sorted(MIWG.glob("*.bpmn"))


@pytest.mark.skipif(not FILES, reason=f"MIWG models not found in {MIWG}")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_miwg_model_deploys_or_is_refused_with_element_errors(api, demo, path: Path):
    resp = api.post("/process-definitions", "designer", data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                    content_type="multipart/form-data")
    assert resp.status_code in (200, 201, 400), resp.get_data(as_text=True)[:500]
    if resp.status_code == 400:
        errors = resp.get_json()["errors"]
        assert errors
        ids = set(_element_ids(path.read_text(encoding="utf-8")))
        for error in errors:
            assert error["element_id"] in ids, error
            assert error["message"]


def _element_ids(xml: str) -> list[str]:
    import re

    return re.findall(r'\sid="([^"]+)"', xml)
