// lupus-msc progressive enhancement: pages work without this file; with it, forms that declare a
// preview URL show their computed scores live as the user types.
(function () {
  "use strict";

  function livePreview(form) {
    var url = form.getAttribute("data-preview");
    var target = document.getElementById(form.getAttribute("data-preview-target"));
    if (!url || !target) return;
    var timer = null;
    var sequence = 0;
    function refresh() {
      var mine = ++sequence;
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && mine === sequence) target.innerHTML = html;
        })
        .catch(function () { /* the server-side check on submit still applies */ });
    }
    function soon() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    }
    form.addEventListener("input", soon);
    form.addEventListener("change", soon);
    var manual = form.querySelector("[data-preview-button]");
    if (manual) manual.hidden = true;
  }

  function focusErrors() {
    var box = document.getElementById("form-errors");
    if (box) box.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-preview]").forEach(livePreview);
    focusErrors();
  });
})();
