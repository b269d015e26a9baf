/* The case's BPMN diagram: bpmn-js NavigatedViewer (vendor bundle, global BpmnJS) loads the XML from
   the access-checked route and marks the steps done and the current ones. Without JavaScript the
   page lists the same steps in text. */
(function () {
  "use strict";
  var box = document.getElementById("case-diagram");
  if (!box || typeof window.BpmnJS !== "function" || !window.fetch) { return; }
  function ids(attr) { return (box.getAttribute(attr) || "").split(/\s+/).filter(Boolean); }
  var viewer = new window.BpmnJS({ container: box });
  fetch(box.getAttribute("data-xml-url"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
      ids("data-done").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
      ids("data-current").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current"); } });
      canvas.zoom("fit-viewport");
    })
    .catch(function () {
      box.textContent = box.getAttribute("data-error") || "";
      box.classList.add("diagram-error");
    });
}());
