// Visit form: after the live preview (app.js) refreshes, show each lab-derived SLEDAI-2K
// finding next to its override control. The server computed every value; this only copies text.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var target = document.getElementById("visit-preview");
    if (!target || !window.MutationObserver) return;
    new MutationObserver(function () {
      target.querySelectorAll("[data-derived-source]").forEach(function (source) {
        var row = document.getElementById("derived-" + source.getAttribute("data-derived-source"));
        if (row) row.textContent = source.textContent;
      });
    }).observe(target, { childList: true });
  });
})();
