// Screening form (progressive enhancement): a shortcut that marks every SLEDAI-2K descriptor
// still "not assessed" as absent. Without JavaScript the button stays hidden.
(function () {
  "use strict";

  function markAbsent(form) {
    var unassessed = form.querySelectorAll('table.descriptors input[type="radio"][value=""]:checked');
    unassessed.forEach(function (radio) {
      form.querySelectorAll('input[type="radio"][value="false"]').forEach(function (absent) {
        if (absent.name === radio.name) absent.checked = true;
      });
    });
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-unassessed-absent]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { markAbsent(button.form); });
    });
  });
})();
