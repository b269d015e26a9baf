/* Bundle entry (esbuild, see build.mjs): the libraries of the modeler page — bpmn-js Modeler with the
   properties panel and its Camunda 7 provider and behaviors — put on one global, so the page scripts
   in app/static/js/design/ stay plain files served as they are. The form editor is design-forms.js. */
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";

window.BanjianModeler = {
  BpmnModeler,
  modules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule],
  moddleExtensions: { camunda: camundaModdle }
};
