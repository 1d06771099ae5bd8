// The automation editor with htmx: each form saves in place (the editor swaps itself), a
// changed choice saves its form at once, and an answer with errors (400) is shown too.
// Without this file (or without JavaScript) every form posts and the page reloads.
(function () {
  "use strict";

  // A change made while an answer is on its way (arrowing through a drop-down or radio
  // buttons saves at each choice) is not undone by that answer's swap: the answer is left
  // unshown, and the changed form saved again once it is in.
  var open = []; // the editor's requests on their way
  var again = null;
  function ours(event) { return Boolean(event.detail.elt.closest("#builder")); }
  function waiting() {
    open = open.filter(function (xhr) { return xhr.readyState !== 4; });
    return open.length > 0;
  }
  function saveAgain() {
    if (waiting() || !again) return;
    var form = again;
    again = null;
    if (document.contains(form)) form.requestSubmit();
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    if (again && ours(event)) event.detail.shouldSwap = false;
  });

  // Saved as you go. A mode switch (one template or an A/B split, a duration or a time of
  // day) waits for the Save button: the other mode's fields are usually still empty.
  document.addEventListener("change", function (event) {
    if (!window.htmx) return;
    var input = event.target;
    if (!input.closest || input.hasAttribute("data-no-autosave")) return;
    var form = input.closest("form[data-autosave]");
    if (!form) return;
    if (waiting()) again = form;
    else form.requestSubmit();
  });

  // Keyboard users keep their place across a swap. htmx gives focus back only to an element
  // with an id, so a button pressed (Twilio SMS, Save step, Remove step) would leave it on
  // nothing, and the next Tab at the top of the page. A step just added gets it on its first
  // control; otherwise the same control (same form, name and value), or its section's first.
  var FOCUSABLE = "input:not([type=hidden]):not([disabled]), select, textarea, " +
    "button:not([disabled]), a[href], summary";
  var place = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!ours(event)) return;
    open.push(event.detail.xhr);
    // Once htmx is done with the answer (loadend comes after its onload).
    event.detail.xhr.addEventListener("loadend", function () { setTimeout(saveAgain); });
    var el = document.activeElement;
    if (!el || !el.closest) { place = null; return; }
    var form = el.closest("form");
    var section = el.closest("#builder section[id]");
    place = {
      steps: Array.prototype.map.call(document.querySelectorAll(".step-card"), function (card) {
        return card.id;
      }),
      action: form && form.getAttribute("action"),
      name: el.getAttribute("name"),
      value: el.getAttribute("value"),
      section: section && section.id,
    };
  });
  function first(root, test) {
    var found = null;
    root.querySelectorAll(FOCUSABLE).forEach(function (el) {
      // Not one that is hidden (in a closed <details>, say).
      if (!found && el.getClientRects().length && (!test || test(el))) found = el;
    });
    return found;
  }
  document.addEventListener("htmx:afterSettle", function () {
    var was = place;
    place = null;
    var lost = !document.activeElement || document.activeElement === document.body;
    if (!was || !lost) return;
    var target = null;
    document.querySelectorAll(".step-card").forEach(function (card) {
      if (!target && was.steps.indexOf(card.id) < 0) target = first(card);
    });
    document.querySelectorAll("form").forEach(function (form) {
      if (target || !was.action || form.getAttribute("action") !== was.action) return;
      target = first(form, function (el) {
        return el.getAttribute("name") === was.name && el.getAttribute("value") === was.value;
      });
    });
    var section = !target && was.section && document.getElementById(was.section);
    if (section) target = first(section);
    if (target) target.focus();
  });

  // Back from the template editor with the new template chosen in a step: save it now.
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-save-now]");
    if (!form || !window.htmx) return;
    history.replaceState(null, "", window.location.pathname + window.location.hash);
    form.requestSubmit();
  });
})();
