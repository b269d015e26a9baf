/* The version diff page: both versions' BPMN read with bpmn-moddle (Camunda extension, so camunda:*
   attributes compare too), compared with bpmn-js-differ, drawn by two viewers with the added, removed
   and changed elements marked, and listed below. Views scroll and zoom together. */
(function () {
  "use strict";
  var lib = window.BanjianDiff, common = window.BanjianDesignCommon;
  if (!lib || !window.fetch) { return; }
  var el = common.el, config = common.config("diff-config"), text = config.text;
  var status = document.getElementById("diff-status");

  function fetchText(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    });
  }

  function definitions(xml) {
    return new lib.BpmnModdle(lib.moddleExtensions).fromXML(xml).then(function (result) { return result.rootElement; });
  }

  function shown(value) {
    if (value === undefined || value === null || value === "") { return "—"; }
    if (typeof value !== "object") { return String(value).replace(/^#ref:/, ""); }  // a reference, by id
    if (value.body !== undefined) { return String(value.body); }           // conditions, scripts
    if (value.id) { return value.id; }
    if (value.$type) { return value.$type.replace(/^\w+:/, ""); }
    return JSON.stringify(value);
  }

  function mark(viewer, ids, marker) {
    var registry = viewer.get("elementRegistry"), canvas = viewer.get("canvas");
    ids.forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, marker); } });
  }

  function row(tbody, id, name, kind, details) {
    var tr = el("tr");
    tr.setAttribute("data-element-id", id);
    tr.setAttribute("data-kind", kind);
    var cell = el("td", null, name || id);
    if (name) { cell.appendChild(el("span", "hint", " " + id)); }
    tr.appendChild(cell);
    tr.appendChild(el("td", "kind-" + kind, text[kind]));
    var detailCell = el("td");
    if (details.length) {
      var list = el("ul");
      details.forEach(function (d) { list.appendChild(el("li", null, d)); });
      detailCell.appendChild(list);
    }
    tr.appendChild(detailCell);
    tbody.appendChild(tr);
  }

  function list(changes) {
    var tbody = document.querySelector("#diagram-changes tbody");
    var any = false;
    [["added", changes._added], ["removed", changes._removed]].forEach(function (pair) {
      Object.keys(pair[1]).forEach(function (id) {
        any = true;
        row(tbody, id, pair[1][id].name, pair[0], [pair[1][id].$type.replace(/^\w+:/, "")]);
      });
    });
    Object.keys(changes._changed).forEach(function (id) {
      var entry = changes._changed[id];
      // bpmn-js-differ 3 passes jsondiffpatch's [before, after] to changed(model, key, newValue, oldValue),
      // so its `oldValue` holds the value after the change (the test of this page pins the direction).
      var details = Object.keys(entry.attrs).map(function (attr) {
        return attr + ": " + shown(entry.attrs[attr].newValue) + " → " + shown(entry.attrs[attr].oldValue);
      });
      any = true;
      row(tbody, id, entry.model.name, "changed", details);
    });
    if (!any) { status.textContent = text.none; }
  }

  function fit(viewer) {
    var canvas = viewer.get("canvas");
    canvas.zoom("fit-viewport");
    var box = canvas.viewbox();
    return { x: box.x, y: box.y, width: box.width, height: box.height, scale: box.scale };
  }

  function linkViews(one, other) {
    var busy = false;
    one.on("canvas.viewbox.changed", function (event) {
      if (busy) { return; }
      busy = true;
      other.get("canvas").viewbox(event.viewbox);
      busy = false;
    });
  }

  var viewerA = new lib.NavigatedViewer({ container: "#diff-a" });
  var viewerB = new lib.NavigatedViewer({ container: "#diff-b" });
  window.banjianDiff = { a: viewerA, b: viewerB };

  Promise.all([fetchText(config.urlA), fetchText(config.urlB)]).then(function (xml) {
    return Promise.all([definitions(xml[0]), definitions(xml[1]), viewerA.importXML(xml[0]), viewerB.importXML(xml[1])])
      .then(function (loaded) {
        var changes = lib.diff(loaded[0], loaded[1]);
        mark(viewerA, Object.keys(changes._removed), "diff-removed");
        mark(viewerB, Object.keys(changes._added), "diff-added");
        mark(viewerA, Object.keys(changes._changed), "diff-changed");
        mark(viewerB, Object.keys(changes._changed), "diff-changed");
        // Both show the same area, the one that fits the larger diagram, so elements line up side by side.
        var boxA = fit(viewerA), boxB = fit(viewerB);
        var box = boxA.scale <= boxB.scale ? boxA : boxB;
        viewerA.get("canvas").viewbox(box);
        viewerB.get("canvas").viewbox(box);
        linkViews(viewerA, viewerB);
        linkViews(viewerB, viewerA);
        list(changes);
        document.body.setAttribute("data-diff-ready", "true");
      });
  }).catch(function (error) {
    status.textContent = common.format(text.failed, { reason: error.message });
    status.className = "error";
  });
}());
