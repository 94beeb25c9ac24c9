// The answer page's only script (progressive: the page works without it). The first tap on the
// send button disables it, so that a second tap sends nothing; the server takes a repeat once anyway.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  if (!form) { return; }
  var button = form.querySelector("button[type=submit]");
  var label = button ? button.textContent : "";
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) { event.preventDefault(); return; }
    sent = true;
    if (button) {
      button.disabled = true;
      button.textContent = button.getAttribute("data-busy") || label;
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && button) { sent = false; button.disabled = false; button.textContent = label; }
  });
})();
