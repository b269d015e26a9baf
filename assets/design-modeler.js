/* Bundle entry (esbuild, see build.mjs): the libraries of the modeler page — bpmn-js Modeler with the
   properties panel and its Camunda 7 provider and behaviors — put on one global, so the page scripts
   in app/static/js/design/ stay plain files served as they are. The form editor is design-forms.js. */
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import bpmnZh from "bpmn-js-i18n-zh/lib/bpmn-js";
import panelZh from "bpmn-js-i18n-zh/lib/properties-panel";
import zeebeZh from "bpmn-js-i18n-zh/lib/zeebe-properties-panel";
import camundaZh from "bpmn-js-i18n-zh/lib/camunda-properties-panel";

import "bpmn-js/dist/assets/diagram-js.css";
import "bpmn-js/dist/assets/bpmn-js.css";
import "bpmn-js/dist/assets/bpmn-font/css/bpmn.css";
import "@bpmn-io/properties-panel/dist/assets/properties-panel.css";

/* The palette, context pad and properties panel in Chinese (community translations, MIT): the Camunda
   panel's own texts win over the shared ones; a few labels only the Zeebe list carries (candidate
   groups, ...) are the same fields in Camunda 7. Texts with no translation stay as they are. */
const zh = { ...bpmnZh, ...panelZh, ...zeebeZh, ...camundaZh };

function translateTo(dictionary) {
  return function translate(template, replacements) {
    const text = dictionary[template] || template;
    return text.replace(/{([^}]+)}/g, (whole, key) => (replacements && key in replacements ? replacements[key] : whole));
  };
}

window.BanjianModeler = {
  BpmnModeler,
  modules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule],
  moddleExtensions: { camunda: camundaModdle },
  // additionalModules entry for a page in Chinese
  chinese: { translate: ["value", translateTo(zh)] }
};
