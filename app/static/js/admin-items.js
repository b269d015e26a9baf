// Item catalogue form: materials as a list of rows, added and removed in place. Without scripts the page
// still works: it always offers one empty row, and a row whose name is cleared is left out on save.
(function () {
  "use strict";
  var list = document.getElementById("materials");
  var template = document.getElementById("material-template");
  var add = document.getElementById("add-material");
  if (!list || !template || !add) return;

  function renumber() {
    list.querySelectorAll("fieldset.material").forEach(function (row, i) {
      var num = row.querySelector(".num");
      if (num) num.textContent = String(i + 1);
    });
  }

  function nextIndex() {
    var highest = -1;
    list.querySelectorAll("fieldset.material").forEach(function (row) {
      highest = Math.max(highest, parseInt(row.getAttribute("data-row"), 10) || 0);
    });
    return highest + 1;
  }

  add.hidden = false;
  add.addEventListener("click", function () {
    var index = String(nextIndex());
    var html = template.innerHTML.replace(/999/g, index);
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var row = holder.querySelector("fieldset.material");
    list.appendChild(row);
    renumber();
    row.querySelector("input").focus();
  });

  list.addEventListener("click", function (event) {
    var button = event.target.closest(".remove-material");
    if (!button) return;
    var row = button.closest("fieldset.material");
    var previous = row.previousElementSibling;
    row.remove();
    renumber();
    (previous ? previous.querySelector("input") : add).focus();
  });
})();
