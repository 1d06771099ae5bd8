// The automation editor with htmx: each form saves in place (the editor swaps itself), a
// changed choice saves its form at once, and an answer with errors (400) is shown too.
// Without this file (or without JavaScript) every form posts and the page reloads.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Saved as you go. A mode switch (one template or an A/B split, a duration or a time of
  // day) waits for the Save button: the other mode's fields are usually still empty.
  document.addEventListener("change", function (event) {
    if (!window.htmx) return;
    var input = event.target;
    if (!input.closest || input.hasAttribute("data-no-autosave")) return;
    var form = input.closest("form[data-autosave]");
    if (form) form.requestSubmit();
  });

  // Back from the template editor with the new template chosen in a step: save it now.
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-save-now]");
    if (!form || !window.htmx) return;
    history.replaceState(null, "", window.location.pathname + window.location.hash);
    form.requestSubmit();
  });
})();
