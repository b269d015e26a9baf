/* Bundle entry (esbuild, see build.mjs): the libraries of the version diff page — two bpmn-js viewers,
   bpmn-moddle with the Camunda extension (so camunda:* attributes compare as properties) and
   bpmn-js-differ — on one global for app/static/js/design/diff.js. */
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { BpmnModdle } from "bpmn-moddle";
import { diff } from "bpmn-js-differ";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";

window.BanjianDiff = { NavigatedViewer, BpmnModdle, diff, moddleExtensions: { camunda: camundaModdle } };
