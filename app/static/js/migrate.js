// Migration page: "tick every case on this page", and ticking a case chooses "only the cases ticked".
(function () {
  "use strict";
  var all = document.getElementById("tick-all");
  var selected = document.getElementById("scope-selected");
  var ticks = Array.prototype.slice.call(document.querySelectorAll("input.case-tick"));
  if (!all || !ticks.length) {
    return;
  }
  all.hidden = false;
  all.checked = ticks.every(function (t) { return t.checked; });
  all.addEventListener("change", function () {
    ticks.forEach(function (t) { t.checked = all.checked; });
    if (all.checked && selected) { selected.checked = true; }
  });
  ticks.forEach(function (t) {
    t.addEventListener("change", function () {
      if (t.checked && selected) { selected.checked = true; }
      all.checked = ticks.every(function (x) { return x.checked; });
    });
  });
}());
