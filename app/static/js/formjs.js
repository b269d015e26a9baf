/* Progressive enhancement for server-rendered form-js forms: hide the fields whose
   `conditional.hide` is true for what is filled in now. The server decides in the end (it drops
   hidden fields' values); without this script every field is simply shown.
   Supports the FEEL subset the validator supports: `=key`, `not(key)`, `key = "v"`, `key != "v"`,
   literals true/false/null/numbers, `and`, `or`, parentheses. Fields whose condition names the
   outcome field (chosen with a button, so unknown until submit) are left visible. */
(function () {
  "use strict";

  function tokenize(text) {
    var re = /\s*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|(!=|=|\(|\))|([A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*(?:\.[A-Za-z_\u00C0-\uFFFF][\w\u00C0-\uFFFF]*)*))/y;
    var tokens = [], pos = 0, m;
    text = text.replace(/\s+$/, "");
    while (pos < text.length) {
      re.lastIndex = pos;
      m = re.exec(text);
      if (!m) { throw new Error("bad expression"); }
      if (m[1] !== undefined) { tokens.push(["str", JSON.parse(m[1])]); }
      else if (m[2] !== undefined) { tokens.push(["num", parseFloat(m[2])]); }
      else if (m[3] !== undefined) { tokens.push(["op", m[3]]); }
      else { tokens.push(/^(and|or|not|true|false|null)$/.test(m[4]) ? ["kw", m[4]] : ["name", m[4]]); }
      pos = re.lastIndex;
    }
    return tokens;
  }

  function parse(source) {
    var tokens = tokenize(source.trim().replace(/^=/, "")), i = 0;
    function peek() { return tokens[i]; }
    function accept(kind, value) {
      var t = tokens[i];
      if (t && t[0] === kind && t[1] === value) { i += 1; return true; }
      return false;
    }
    function expect(kind, value) { if (!accept(kind, value)) { throw new Error("expected " + value); } }
    function literal() {
      var t = tokens[i++];
      if (!t) { throw new Error("literal"); }
      if (t[0] === "str" || t[0] === "num") { return t[1]; }
      if (t[0] === "kw" && t[1] === "true") { return true; }
      if (t[0] === "kw" && t[1] === "false") { return false; }
      if (t[0] === "kw" && t[1] === "null") { return null; }
      throw new Error("literal");
    }
    function atom() {
      if (accept("op", "(")) { var inner = expression(); expect("op", ")"); return inner; }
      if (accept("kw", "not")) {
        expect("op", "("); var op = expression(); expect("op", ")");
        return { not: op };
      }
      var t = tokens[i++];
      if (!t || t[0] !== "name") { throw new Error("name"); }
      if (accept("op", "=")) { return { name: t[1], eq: literal() }; }
      if (accept("op", "!=")) { return { name: t[1], ne: literal() }; }
      return { name: t[1] };
    }
    function conjunction() {
      var ops = [atom()];
      while (accept("kw", "and")) { ops.push(atom()); }
      return ops.length === 1 ? ops[0] : { and: ops };
    }
    function expression() {
      var ops = [conjunction()];
      while (accept("kw", "or")) { ops.push(conjunction()); }
      return ops.length === 1 ? ops[0] : { or: ops };
    }
    var expr = expression();
    if (peek()) { throw new Error("trailing"); }
    return expr;
  }

  function asBool(v) {
    if (v === true || v === false) { return v; }
    if (typeof v === "string" && /^(true|false)$/i.test(v)) { return v.toLowerCase() === "true"; }
    return null;
  }

  function equals(v, lit) {
    if (lit === null) { return v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0); }
    if (lit === true || lit === false) { return asBool(v) === lit; }
    if (typeof lit === "number") { return v !== "" && v !== null && Number(v) === lit; }
    return v === lit;
  }

  function evaluate(e, get) {
    var results, k;
    if (e.and || e.or) {
      results = (e.and || e.or).map(function (x) { return evaluate(x, get); });
      if (e.and) { return results.indexOf(false) >= 0 ? false : (results.indexOf(null) >= 0 ? null : true); }
      return results.indexOf(true) >= 0 ? true : (results.indexOf(null) >= 0 ? null : false);
    }
    if (e.not) { k = evaluate(e.not, get); return k === null ? null : !k; }
    if ("eq" in e) { return equals(get(e.name), e.eq); }
    if ("ne" in e) { return !equals(get(e.name), e.ne); }
    return asBool(get(e.name));
  }

  function valueOf(form, name) {
    var els = form.querySelectorAll('[name="' + name.replace(/"/g, '\\"') + '"]');
    if (!els.length) { return undefined; }
    var first = els[0];
    if (first.type === "radio") {
      for (var i = 0; i < els.length; i++) { if (els[i].checked) { return els[i].value; } }
      return null;
    }
    if (first.type === "checkbox") {
      if (els.length === 1 && first.value === "true") { return first.checked; }
      return Array.prototype.filter.call(els, function (x) { return x.checked; }).map(function (x) { return x.value; });
    }
    if (first.tagName === "SELECT" && first.multiple) {
      return Array.prototype.filter.call(first.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
    }
    return first.value;
  }

  function update(root) {
    var form = root.closest("form") || root;
    root.querySelectorAll("[data-hide]").forEach(function (el) {
      if (el.hasAttribute("data-outcome-dependent")) { return; }
      var expr = el._feel;
      if (expr === undefined) {
        try { expr = parse(el.getAttribute("data-hide")); } catch (err) { expr = null; }
        el._feel = expr;
      }
      if (!expr) { return; }
      var row = el.parentElement && el.parentElement.closest("[data-row-prefix]");
      var prefix = row ? row.getAttribute("data-row-prefix") : "";
      var hidden = evaluate(expr, function (name) {
        var v = prefix ? valueOf(form, prefix + name) : undefined;
        return v === undefined ? (valueOf(form, name) === undefined ? null : valueOf(form, name)) : v;
      }) === true;
      el.hidden = hidden;
    });
  }

  document.querySelectorAll("[data-formjs]").forEach(function (root) {
    update(root);
    root.addEventListener("change", function () { update(root); });
    root.addEventListener("input", function () { update(root); });
  });
  // An error summary gets the focus, so screen readers announce it and the keyboard starts there.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
}());
