/* The form editor of the modeler page: the forms the diagram's user tasks name (camunda:formKey), each
   edited with form-js's editor beside a live preview (form-js viewer), checked on the server, and kept
   in memory with the diagram so Deploy sends them with it. */
(function () {
  "use strict";
  var common = window.BanjianDesignCommon, el = common.el, format = common.format;
  var CAMUNDA_PREFIX = "camunda-forms:deployment:";
  var KEY_PATTERN = /^[\w\u4e00-\u9fff][\w\u4e00-\u9fff.-]{0,199}$/;

  function FormsPanel(options) {
    this.text = options.text;
    this.checkUrl = options.checkUrl;
    this.referenced = options.referenced; // () -> {form key: [task names]}
    this.forms = {};        // {form key: JSON text}, what Deploy sends
    this.current = null;
    this.editor = null;
    this.preview = null;
    this.list = document.getElementById("form-list");
    this.status = document.getElementById("form-status");
    this.problems = document.getElementById("form-problems");
    var self = this;
    document.getElementById("new-form").addEventListener("submit", function (event) {
      event.preventDefault();
      self.create(document.getElementById("new-form-key").value.trim());
    });
    document.getElementById("form-save").addEventListener("click", function () { self.keep(); });
    document.getElementById("form-check").addEventListener("click", function () { self.check(); });
  }

  FormsPanel.normalize = function (key) {
    key = String(key || "").trim();
    return key.indexOf(CAMUNDA_PREFIX) === 0 ? key.slice(CAMUNDA_PREFIX.length).trim() : key;
  };

  /* Forms of an opened version; the inline forms the server made from camunda:formData are not
     files and are made again at deploy, so they are not kept. */
  FormsPanel.prototype.load = function (forms) {
    var self = this;
    this.forms = {};
    Object.keys(forms || {}).forEach(function (key) {
      if (key.indexOf("inline:") !== 0) { self.forms[key] = forms[key]; }
    });
    this.render();
  };

  FormsPanel.prototype.render = function () {
    var self = this, used = this.referenced(), text = this.text;
    var keys = Object.keys(used).concat(Object.keys(this.forms)).filter(function (k, i, all) {
      return all.indexOf(k) === i;
    }).sort();
    this.list.textContent = "";
    keys.forEach(function (key) {
      var item = el("li", "form-entry" + (key === self.current ? " current" : ""));
      item.setAttribute("data-form-key", key);
      var open = el("button", "link", key);
      open.type = "button";
      open.addEventListener("click", function () { self.open(key); });
      item.appendChild(open);
      var notes = [];
      notes.push(used[key] ? format(text.formReferenced, { tasks: used[key].join(", ") }) : text.formUnused);
      notes.push(self.forms[key] !== undefined ? text.formEdited : text.formMissing);
      item.appendChild(el("div", "hint", notes.join(" · ")));
      self.list.appendChild(item);
    });
  };

  FormsPanel.prototype.create = function (key) {
    key = FormsPanel.normalize(key);
    if (!KEY_PATTERN.test(key)) { this.say(this.text.formKeyInvalid, true); return; }
    if (!/\.(form|json)$/.test(key)) { key += ".form"; }
    if (this.forms[key] !== undefined) {
      this.say(format(this.text.formExists, { key: key }));
    } else {
      var id = "Form_" + key.replace(/\W+/g, "_");
      this.forms[key] = JSON.stringify({ id: id, type: "default", schemaVersion: 16, components: [] }, null, 2);
    }
    document.getElementById("new-form-key").value = "";
    this.open(key);
  };

  FormsPanel.prototype.open = function (key) {
    var self = this, lib = window.BanjianForms;
    var schema = this.forms[key] !== undefined ? JSON.parse(this.forms[key])
      : { id: "Form_" + key.replace(/\W+/g, "_"), type: "default", schemaVersion: 16, components: [] };
    this.current = key;
    this.opened = undefined;  // until the editor has it
    document.getElementById("form-title").textContent = key;
    document.getElementById("form-empty").hidden = true;
    document.getElementById("form-tools").hidden = false;
    this.problems.textContent = "";
    this.say("");
    if (!this.editor) {
      this.editor = new lib.FormEditor({ container: document.getElementById("form-editor") });
      this.preview = new lib.Form({ container: document.getElementById("form-preview") });
      this.editor.on("changed", function () { self.refreshPreview(); });
    }
    this.editor.importSchema(schema).then(function () {
      self.opened = self.schemaText();
      // form-js's palette search box has only a placeholder; screen readers need a name.
      var search = document.querySelector("#form-editor .fjs-palette-search");
      if (search && !search.getAttribute("aria-label")) { search.setAttribute("aria-label", self.text.searchComponents); }
      self.refreshPreview();
    });
    this.render();
  };

  FormsPanel.prototype.schemaText = function () {
    return JSON.stringify(this.editor.saveSchema(), null, 2);
  };

  FormsPanel.prototype.refreshPreview = function () {
    if (!this.editor) { return; }
    // A half-made form may not render yet; the preview simply waits for the next change.
    this.preview.importSchema(this.editor.saveSchema()).catch(function () {});
  };

  /* The form's text to deploy: as it was loaded while nothing was edited, so an unedited form keeps
     the version's hash (the editor writes the same form with other spacing). */
  FormsPanel.prototype.edited = function () {
    var text = this.schemaText();
    return text === this.opened && this.forms[this.current] !== undefined ? this.forms[this.current] : text;
  };

  FormsPanel.prototype.keep = function () {
    if (!this.current) { return; }
    this.forms[this.current] = this.edited();
    this.say(format(this.text.formSaved, { key: this.current }));
    this.render();
  };

  /* Before a check or deploy of the diagram: the open form as it is now. */
  FormsPanel.prototype.keepOpen = function () {
    if (this.current && this.editor && this.opened !== undefined) { this.forms[this.current] = this.edited(); }
  };

  FormsPanel.prototype.check = function () {
    var self = this;
    if (!this.current) { return; }
    common.postJSON(this.checkUrl, { key: this.current, form: this.schemaText() }).then(function (answer) {
      var problems = answer.body.problems || [];
      self.problems.textContent = "";
      problems.forEach(function (p) {
        var where = p.component || p.field || "";
        self.problems.appendChild(el("li", "problem", (where ? where + ": " : "") + p.message));
      });
      self.say(problems.length ? format(self.text.formProblems, { n: problems.length }) : self.text.formOk,
        problems.length > 0);
    }).catch(function (error) { self.say(format(self.text.requestFailed, { reason: error.message }), true); });
  };

  FormsPanel.prototype.say = function (message, bad) {
    this.status.textContent = message;
    this.status.className = bad ? "error" : "";
  };

  window.BanjianFormsPanel = FormsPanel;
}());
