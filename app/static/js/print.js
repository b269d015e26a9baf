/* Buttons marked data-print open the browser's print dialog (no inline onclick: the
   Content-Security-Policy runs no inline script). */
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
}());
