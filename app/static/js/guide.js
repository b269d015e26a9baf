/* The item guide's process diagram: bpmn-js NavigatedViewer (vendor bundle, global BpmnJS) loads the
   item's BPMN. Progressive enhancement: the step list on the page says it all without JavaScript.
   A file of its own because the Content-Security-Policy runs no inline script. */
(function () {
  "use strict";
  var el = document.getElementById("process-diagram");
  if (!el || typeof window.BpmnJS !== "function" || !window.fetch) { return; }
  el.hidden = false;
  var viewer = new window.BpmnJS({ container: el });
  fetch(el.getAttribute("data-xml-url"), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () { viewer.get("canvas").zoom("fit-viewport"); })
    .catch(function () { el.hidden = true; });
}());
