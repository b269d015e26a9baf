/* Shared helpers of the design pages: the page's settings and words (a JSON data block, since the
   policy runs no inline script), {name} placeholders (not gettext's %(name)s, which Jinja would fill), and JSON posts that carry the
   CSRF token in the X-CSRFToken header (Flask-WTF checks it on every session-authenticated post). */
(function () {
  "use strict";

  function config(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  function format(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* Resolves with {status, body}; a 4xx answer is a result to show, not a failure. */
  function postJSON(url, payload) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) { throw new Error("HTTP " + response.status); }
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  window.BanjianDesignCommon = { config: config, format: format, postJSON: postJSON, getJSON: getJSON, el: el };
}());
