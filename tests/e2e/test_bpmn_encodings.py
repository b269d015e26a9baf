"""BPMN files saved in GBK or UTF-16 deploy like UTF-8 ones (API and CLI), are stored as UTF-8 text that
reads back identically, and run; a file whose encoding cannot be read is refused with a 400 naming it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.e2e.flows import FOOD, food_to_review

pytestmark = pytest.mark.usefixtures("demo")

ROOT = Path(__file__).resolve().parents[2]
ORIGINAL = (ROOT / "bpmn" / "food_licence.bpmn").read_text(encoding="utf-8")
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def renamed(suffix: str) -> str:
    """food_licence.bpmn with a changed process name (so a deploy makes a new version), still UTF-8."""
    assert ORIGINAL.startswith(DECLARATION)
    return ORIGINAL.replace('name="食品经营许可"', f'name="食品经营许可（{suffix}）"', 1)


def declared(text: str, encoding: str) -> str:
    return text.replace(DECLARATION, f'<?xml version="1.0" encoding="{encoding}"?>', 1)


UNDECLARED = renamed("无声明").replace(DECLARATION, "", 1)


def not_utf8_at(content: bytes) -> int:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start
    raise AssertionError("valid UTF-8")




def deploy(api, content: bytes, user: str = "designer"):
    return api.post("/process-definitions", user, data={"file": (io.BytesIO(content), "food_licence.bpmn")},
                    content_type="multipart/form-data")


def versions(api) -> list[int]:
    return [v["version"] for v in api.get("/process-definitions/food_licence", "admin").get_json()["versions"]]


@pytest.mark.parametrize("encoding, encode", [
    ("GBK", lambda text: text.encode("gbk")),
    ("GB2312", lambda text: text.encode("gbk")),
    ("UTF-16", lambda text: "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")),  # with its byte-order mark
])
def test_a_gbk_or_utf16_file_deploys_reads_back_identically_and_runs(app, api, encoding, encode):
    text = renamed(encoding)
    resp = deploy(api, encode(declared(text, encoding)))
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["key"], resp.get_json()["version"]) == ("food_licence", 2)
    # the public model of the item is the stored text: the same characters, now declared as UTF-8
    model = app.test_client().get(f"/items/{FOOD}/process.bpmn")
    assert model.get_data(as_text=True) == text
    # the same document again, in this encoding or in UTF-8, is no new version
    assert deploy(api, encode(declared(text, encoding))).status_code == 200
    assert deploy(api, text.encode("utf-8")).get_json()["version"] == 2
    case_no = food_to_review(api)  # a case runs on the new version
    assert api.get(f"/cases/{case_no}", "admin").get_json()["tasks"][0]["task_key"] == "review"


@pytest.mark.parametrize("content, message", [
    (declared(renamed("SJIS"), "Shift_JIS").encode("shift_jis", errors="xmlcharrefreplace"),
     "unsupported encoding 'Shift_JIS': save the file as UTF-8, UTF-16 (with a byte-order mark), GBK, GB2312, "
     "GB18030, ISO-8859-1 or windows-1252"),
    (UNDECLARED.encode("gbk"),
     f"the file declares no encoding and is not UTF-8 (byte {not_utf8_at(UNDECLARED.encode('gbk'))}): save it as UTF-8, or declare its "
     'encoding, e.g. <?xml version="1.0" encoding="GBK"?>'),
    (declared(renamed("UTF-16"), "UTF-16").encode("utf-16-le"),
     "UTF-16 without a byte-order mark: save it with the mark, or as UTF-8"),
])
def test_an_unreadable_encoding_is_refused_with_a_400_and_nothing_deployed(api, content, message):
    resp = deploy(api, content)
    assert resp.status_code == 400
    assert resp.get_json() == {"errors": [{"field": "file", "message": message}]}
    assert versions(api) == [1]


def test_cli_lints_and_deploys_a_gbk_file_and_refuses_an_unsupported_one(app, api, tmp_path):
    cli = app.test_cli_runner()
    gbk = tmp_path / "food_licence.bpmn"
    gbk.write_bytes(declared(renamed("GBK"), "GBK").encode("gbk"))
    linted = cli.invoke(args=["bpmn", "lint", str(gbk)])
    assert (linted.exit_code, linted.output) == (0, f"{gbk}: ok (food_licence)\n")
    deployed = cli.invoke(args=["bpmn", "deploy", str(gbk)])
    assert (deployed.exit_code, deployed.output) == (0, f"food_licence v2 deployed ({gbk})\n")
    assert app.test_client().get(f"/items/{FOOD}/process.bpmn").get_data(as_text=True) == renamed("GBK")
    big5 = tmp_path / "big5.bpmn"
    big5.write_bytes(declared(renamed("Big5"), "Big5").encode("big5", errors="xmlcharrefreplace"))
    refused = cli.invoke(args=["bpmn", "lint", str(big5)])
    assert refused.exit_code == 1
    assert f"{big5}: -: unsupported encoding 'Big5'" in refused.output
    assert cli.invoke(args=["bpmn", "deploy", str(big5)]).exit_code == 1
    assert versions(api) == [2, 1]
