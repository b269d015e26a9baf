"""Reading BPMN files in their declared encodings and keeping only the elements BPMN and its known
extensions define (the deploy path's `clean_bpmn`)."""

from __future__ import annotations

import pytest

from app.engine.xmlsafe import XmlEncodingError, clean_bpmn, decode_xml

HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:bioc="http://bpmn.io/schema/bpmn/biocolor/1.0" id="d">')
TASK = ('<bpmn:userTask id="t" name="受理" bioc:stroke="#000"><bpmn:extensionElements>'
        '<camunda:properties><camunda:property name="stage" value="acceptance"/></camunda:properties>'
        '<zeebe:taskDefinition type="x"/><spiffworkflow:instructionsForEndUser>读</spiffworkflow:instructionsForEndUser>'
        '{foreign}</bpmn:extensionElements></bpmn:userTask>')


def bpmn(foreign: str = "", declaration: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return f"{declaration}\n<!-- 受理 -->\n{HEAD}<bpmn:process id=\"p\">{TASK.format(foreign=foreign)}</bpmn:process></bpmn:definitions>\n"


def test_a_clean_utf8_file_comes_back_byte_for_byte():
    content = bpmn().encode("utf-8")
    assert clean_bpmn(content) == content


@pytest.mark.parametrize("foreign", [
    '<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>',
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "<script>alert(1)</script>",  # no namespace at all
    '<camunda:properties><h:b xmlns:h="http://www.w3.org/1999/xhtml">x</h:b></camunda:properties>',
])
def test_foreign_elements_go_and_everything_else_stays(foreign):
    cleaned = clean_bpmn(bpmn(foreign).encode("utf-8")).decode("utf-8")
    assert "script" not in cleaned and "w3.org/1999/xhtml\">" not in cleaned and "<h:b" not in cleaned
    assert "<!-- 受理 -->" in cleaned and 'bioc:stroke="#000"' in cleaned
    for kept in ("<camunda:property name=\"stage\"", "<zeebe:taskDefinition", "<spiffworkflow:instructionsForEndUser>"):
        assert kept in cleaned, kept


def test_processing_instructions_go():
    content = bpmn(declaration='<?xml version="1.0"?>\n<?xml-stylesheet href="x.xsl"?>').encode("utf-8")
    assert clean_bpmn(content).decode("utf-8") == bpmn(declaration='<?xml version="1.0"?>')


@pytest.mark.parametrize("encoding, data", [
    ("GB18030", lambda text: text.encode("gb18030")),
    ("gbk", lambda text: text.encode("gbk")),
    ("UTF-16", lambda text: text.encode("utf-16")),  # Python writes the byte-order mark
    ("utf-8", lambda text: b"\xef\xbb\xbf" + text.encode("utf-8")),
])
def test_declared_encodings_are_read_and_the_text_says_utf8(encoding, data):
    text = bpmn(declaration=f"<?xml version='1.0' encoding='{encoding}'?>")
    assert decode_xml(data(text)) == bpmn(declaration="<?xml version='1.0' encoding='UTF-8'?>")


@pytest.mark.parametrize("data, message", [
    (b"\xef\xbb\xbf<?xml version='1.0' encoding='GBK'?><a/>", "the byte-order mark says UTF-8 but the declaration says 'GBK'"),
    ("<?xml version='1.0' encoding='GBK'?><a>\u20ac</a>".encode("utf-8"), "the file is not valid GBK (byte 41)"),
    ("<a/>".encode("utf-32"), "unsupported encoding 'UTF-32'"),
])
def test_unreadable_encodings_are_named(data, message):
    with pytest.raises(XmlEncodingError) as raised:
        decode_xml(data)
    assert str(raised.value).startswith(message)
