// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // <button data-copy="#selector">: copies the target's value (or text) to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    var text = "value" in target ? target.value : target.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      target.select();
      document.execCommand("copy");
      done();
    }
  });

  // <section data-fragment="url">: its [data-fragment-body] is filled with the page fragment
  // that another area of the app serves (a contact's messages, say).
  document.querySelectorAll("[data-fragment]").forEach(function (section) {
    var body = section.querySelector("[data-fragment-body]") || section;
    fetch(section.getAttribute("data-fragment"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        body.innerHTML = html;
        if (window.htmx) window.htmx.process(body); // a fragment that keeps itself live
      })
      .catch(function () { body.textContent = "This part could not be loaded. Reload the page to try again."; });
  });

  // The phone's Menu button: shows and hides the main navigation (CSS folds it on phones
  // only once this script runs, so without JavaScript the areas stay a scrolling row).
  var toggle = document.querySelector(".nav-toggle");
  if (toggle) {
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    toggle.hidden = false;
    document.documentElement.classList.add("js-nav");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
  }

  // Close an open <details class="menu"> when clicking elsewhere or pressing Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null);
  });
})();
