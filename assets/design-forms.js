/* Bundle entry (esbuild, see build.mjs): the form-js editor and viewer of the modeler page's form tab,
   on the global BanjianForms. Built apart from the modeler because the editor pins an older preact
   than the properties panel; see build.mjs. */
import { FormEditor, Form } from "@bpmn-io/form-js";

import "@bpmn-io/form-js/dist/assets/form-js.css";
import "@bpmn-io/form-js/dist/assets/form-js-editor.css";

window.BanjianForms = { FormEditor, Form };
