"""Small BPMN documents for tests: a straight line of steps, written the way Camunda Modeler does."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" '
        'targetNamespace="http://bpmn.io/schema/bpmn">\n')


def user(task_id: str, group: str | None = "bench.clerk", name: str | None = None, **attrs: str) -> str:
    extra = "".join(f" camunda:{k}={quoteattr(v)}" for k, v in attrs.items())
    routing = f" camunda:candidateGroups={quoteattr(group)}" if group else ""
    return f'<bpmn:userTask id="{task_id}" name={quoteattr(name or task_id)}{routing}{extra}>'


def script(task_id: str, code: str) -> str:
    return (f'<bpmn:scriptTask id="{task_id}" name="{task_id}" scriptFormat="python">'
            f"<bpmn:script>{escape(code)}</bpmn:script>")


CLOSE = {"userTask": "</bpmn:userTask>", "scriptTask": "</bpmn:scriptTask>"}


def linear(process_id: str, *steps: str, name: str | None = None, executable: bool = True) -> bytes:
    """start -> steps... -> end; each step is an opening tag from `user` / `script` (closed here)."""
    parts = [HEAD, f'<bpmn:process id="{process_id}" name={quoteattr(name or process_id)} '
                   f'isExecutable="{"true" if executable else "false"}">\n',
             '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n']
    for i, step in enumerate(steps):
        kind = "scriptTask" if step.startswith("<bpmn:scriptTask") else "userTask"
        head, _, rest = step.partition(">")
        parts.append(f"{head}><bpmn:incoming>f{i}</bpmn:incoming><bpmn:outgoing>f{i + 1}</bpmn:outgoing>{rest}"
                     f"{CLOSE[kind]}\n")
    parts.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f{len(steps)}</bpmn:incoming></bpmn:endEvent>\n')
    ids = ["start", *[s.split('id="', 1)[1].split('"', 1)[0] for s in steps], "end"]
    for i in range(len(ids) - 1):
        parts.append(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{ids[i]}" targetRef="{ids[i + 1]}"/>\n')
    parts.append("</bpmn:process>\n</bpmn:definitions>\n")
    return "".join(parts).encode()
