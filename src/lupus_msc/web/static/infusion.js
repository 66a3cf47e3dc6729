// The infusion page: a barcode scanner types the code and presses Enter. In a scan field, Enter
// moves on to the next field instead of sending a half-filled form; a stop message takes focus.
(function () {
  "use strict";

  function nextField(input) {
    var fields = Array.prototype.slice.call(
      input.form.querySelectorAll("input:not([type=hidden]), button[type=submit]")
    );
    return fields[fields.indexOf(input) + 1] || null;
  }

  function onScanKey(event) {
    if (event.key !== "Enter") return;
    var next = nextField(event.target);
    if (next && next.tagName === "INPUT") {
      event.preventDefault();
      next.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-scan]").forEach(function (input) {
      input.addEventListener("keydown", onScanKey);
    });
    var stop = document.getElementById("identity-stop");
    if (stop) stop.focus();
    var first = document.querySelector("input[data-scan]");
    if (first && !stop && !document.getElementById("form-errors")) first.focus();
  });
})();
