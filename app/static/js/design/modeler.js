/* The modeler page: bpmn-js Modeler with the properties panel and its Camunda 7 provider (vendor
   bundle, global BanjianModeler). Opens a deployed version, a blank diagram or a local file; Check
   asks the server's deploy check and marks each problem on its element (overlay and list); Deploy
   sends the diagram with the forms of the form editor. `window.banjianModeler` is the modeler, for
   tests that draw through its API. */
(function () {
  "use strict";
  var lib = window.BanjianModeler, common = window.BanjianDesignCommon;
  if (!lib || !window.fetch) { return; }
  var el = common.el, format = common.format;
  var config = common.config("modeler-config"), text = config.text;
  var status = document.getElementById("modeler-status");
  var problemList = document.getElementById("problem-list");
  var filename = "diagram.bpmn";
  var loadedXml = null;  // the text opened, sent as it is while nothing is edited

  var modeler = new lib.BpmnModeler({
    container: "#canvas",
    propertiesPanel: { parent: "#properties" },
    additionalModules: /^zh/i.test(document.documentElement.lang) ? lib.modules.concat([lib.chinese]) : lib.modules,
    moddleExtensions: lib.moddleExtensions
  });
  window.banjianModeler = modeler;

  var forms = new window.BanjianFormsPanel({ text: text, checkUrl: config.formCheckUrl, referenced: referencedForms });

  function say(message, bad) {
    status.textContent = message;
    status.className = "modeler-status" + (bad ? " error" : "");
  }

  /* {form key: [names of the user tasks naming it]} */
  function referencedForms() {
    var used = {};
    modeler.get("elementRegistry").filter(function (e) { return e.type === "bpmn:UserTask"; }).forEach(function (e) {
      var key = window.BanjianFormsPanel.normalize(e.businessObject.get("camunda:formKey"));
      if (key) { (used[key] = used[key] || []).push(e.businessObject.name || e.id); }
    });
    return used;
  }

  function open(xml, name) {
    clearProblems();
    return modeler.importXML(xml).then(function () {
      loadedXml = xml;
      filename = name || filename;
      modeler.get("canvas").zoom("fit-viewport");
      forms.render();
      say(format(text.opened, { name: filename }));
    }).catch(function (error) { say(format(text.loadFailed, { reason: error.message }), true); });
  }

  function start() {
    if (config.sourceUrl) {
      say(text.loading);
      common.getJSON(config.sourceUrl).then(function (source) {
        forms.load(source.forms);
        return open(source.bpmn, source.filename);
      }).catch(function (error) { say(format(text.loadFailed, { reason: error.message }), true); });
    } else {
      modeler.createDiagram().then(function () { forms.render(); });
    }
  }

  /* --- problems: overlay on the element, entry in the list; clicking an entry selects the element. */
  function clearProblems() {
    var registry = modeler.get("elementRegistry"), canvas = modeler.get("canvas");
    modeler.get("overlays").remove({ type: "problem" });
    registry.forEach(function (e) { if (canvas.hasMarker(e, "has-problem")) { canvas.removeMarker(e, "has-problem"); } });
    problemList.textContent = "";
  }

  function showProblems(problems) {
    var registry = modeler.get("elementRegistry"), canvas = modeler.get("canvas");
    var overlays = modeler.get("overlays"), counts = {};
    clearProblems();
    problems.forEach(function (problem) {
      var element = problem.element_id ? registry.get(problem.element_id) : null;
      var item = el("li", "problem");
      item.setAttribute("data-element-id", problem.element_id || "");
      var where = element ? (element.businessObject.name || element.id)
        : problem.file ? format(text.form, { key: problem.file }) : (problem.element_id || problem.field || text.wholeFile);
      if (element) {
        var button = el("button", "link", where);
        button.type = "button";
        button.addEventListener("click", function () {
          modeler.get("selection").select(element);
          canvas.scrollToElement(element);
        });
        item.appendChild(button);
        counts[element.id] = (counts[element.id] || 0) + 1;
        canvas.addMarker(element, "has-problem");
      } else {
        item.appendChild(el("strong", null, where));
      }
      item.appendChild(document.createTextNode(": " + problem.message));
      problemList.appendChild(item);
    });
    Object.keys(counts).forEach(function (id) {
      var badge = el("div", "problem-badge", "!" + (counts[id] > 1 ? counts[id] : ""));
      badge.title = problems.filter(function (p) { return p.element_id === id; })
        .map(function (p) { return p.message; }).join("\n");
      overlays.add(id, "problem", { position: { top: -10, right: 10 }, html: badge });
    });
  }

  /* bpmn-js writes an opened file with its own spacing and attribute order; an unedited diagram is sent
     as it was opened, so deploying it again keeps its version (the server compares contents). */
  function diagram() {
    forms.keepOpen();
    var unedited = loadedXml !== null && !modeler.get("commandStack").canUndo();
    return (unedited ? Promise.resolve({ xml: loadedXml }) : modeler.saveXML({ format: true })).then(function (saved) {
      return { bpmn: saved.xml, filename: filename, forms: forms.forms };
    });
  }

  function failed(error) { say(format(text.requestFailed, { reason: error.message }), true); }

  document.getElementById("check").addEventListener("click", function () {
    say(text.checking);
    diagram().then(function (payload) { return common.postJSON(config.checkUrl, payload); }).then(function (answer) {
      var problems = answer.body.problems || [];
      showProblems(problems);
      say(problems.length ? format(text.problems, { n: problems.length }) : text.noProblems, problems.length > 0);
    }).catch(failed);
  });

  document.getElementById("deploy").addEventListener("click", function () {
    say(text.deploying);
    diagram().then(function (payload) { return common.postJSON(config.deployUrl, payload); }).then(function (answer) {
      if (answer.status !== 200) {
        var problems = answer.body.problems || [];
        showProblems(problems);
        say((answer.body.message ? answer.body.message + " " : "") + format(text.notDeployed, { n: problems.length }), true);
        return;
      }
      clearProblems();
      status.textContent = "";
      status.className = "modeler-status success";
      answer.body.deployed.forEach(function (d) {
        var line = el("span", null, format(d.created ? text.deployed : text.unchanged, { key: d.key, version: d.version }) + " ");
        var link = el("a", null, text.viewVersions);
        link.href = d.versions_url;
        line.appendChild(link);
        status.appendChild(line);
      });
    }).catch(failed);
  });

  document.getElementById("download").addEventListener("click", function () {
    modeler.saveXML({ format: true }).then(function (saved) {
      var link = el("a");
      link.href = URL.createObjectURL(new Blob([saved.xml], { type: "application/xml" }));
      link.download = filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  });

  document.getElementById("open-file").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    file.text().then(function (xml) { return open(xml, file.name); });
  });

  document.getElementById("new-diagram").addEventListener("click", function () {
    clearProblems();
    filename = "diagram.bpmn";
    loadedXml = null;
    modeler.createDiagram().then(function () { forms.render(); say(""); });
  });

  modeler.on("commandStack.changed", function () { forms.render(); });

  /* --- tabs */
  var tabs = [["tab-diagram", "panel-diagram"], ["tab-forms", "panel-forms"]];
  tabs.forEach(function (pair) {
    document.getElementById(pair[0]).addEventListener("click", function () {
      tabs.forEach(function (other) {
        var on = other[0] === pair[0];
        document.getElementById(other[0]).setAttribute("aria-selected", on ? "true" : "false");
        document.getElementById(other[1]).hidden = !on;
      });
      if (pair[0] === "tab-forms") { forms.render(); }
    });
  });

  start();
}());
