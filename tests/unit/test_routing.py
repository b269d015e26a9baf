"""Who a BPMN file offers its user tasks to, read from the XML: attributes as written, lanes (also around
a sub-process), called processes; unsafe XML refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.routing import read_routes
from app.engine.xmlsafe import UnsafeXml

ROOT = Path(__file__).resolve().parents[2]
LANED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="laned" name="泳道流程" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="l1" name="market.clerk"><bpmn:flowNodeRef>check</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>sub</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="l2" name="market.head"><bpmn:flowNodeRef>sign</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:userTask id="check" name="核对" />
    <bpmn:subProcess id="sub"><bpmn:userTask id="inner" name="内部" /></bpmn:subProcess>
    <bpmn:userTask id="sign" name="签发" camunda:assignee="${boss}" />
    <bpmn:callActivity id="call" calledElement="issuance" />
  </bpmn:process>
</bpmn:definitions>"""


def test_lanes_and_calls():
    routes = read_routes(LANED)["laned"]
    assert routes.name == "泳道流程" and routes.calls == ("issuance",)
    by_id = {t.task_id: t for t in routes.tasks}
    assert by_id["check"].lane == "market.clerk" and by_id["check"].candidate_groups is None
    assert by_id["inner"].lane == "market.clerk"  # inside a sub-process that sits in the lane
    assert by_id["sign"].lane == "market.head" and by_id["sign"].assignee == "${boss}"


def test_the_reference_models_attributes_as_written():
    routes = read_routes((ROOT / "bpmn/construction_permit.bpmn").read_bytes())["construction_permit"]
    by_id = {t.task_id: t for t in routes.tasks}
    assert by_id["dept_approval"].candidate_groups == "${department}.approver"
    assert by_id["correction"].candidate_users == "${applicant}"
    assert by_id["approve_extension"].task_name == "审批延期申请"  # inside the event sub-process
    assert routes.calls == ("issuance",)


def test_unsafe_xml_is_refused():
    with pytest.raises(UnsafeXml):
        read_routes('<!DOCTYPE x [<!ENTITY a "b">]><x/>')
