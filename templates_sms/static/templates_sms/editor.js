// The template editor: a live segment counter (the server's rule, in segments.js), one-click
// replacements for characters that force UCS-2, and the server-rendered preview.
(function () {
  "use strict";
  var root = document.querySelector("[data-editor]");
  if (!root || !window.SmsSegments) return;
  var config = JSON.parse(root.getAttribute("data-editor"));
  var form = document.getElementById("template-form");
  var body = form.querySelector("[data-sms-body]");
  var footer = form.querySelector("[data-sms-footer]");
  var TAG = /\{\{([\s\S]*?)\}\}/g;
  var FIELD = /^\s*([a-z_]+(?:\.[a-z0-9_]+)?)\s*(?:\|\s*default\s*:\s*"([^"{}]*)"\s*)?$/;

  function renderSample(text) {
    return text.replace(TAG, function (_, inner) {
      var match = FIELD.exec(inner);
      if (!match) return "";
      var value = config.sample[match[1]] || "";
      return value.trim() ? value : (match[2] || "");
    });
  }

  function messageText() {
    var text = renderSample(body.value).trim();
    if (footer && footer.checked && config.footer.trim()) {
      text = text ? text + "\n" + config.footer.trim() : config.footer.trim();
    }
    return text;
  }

  function updateCounter() {
    var info = window.SmsSegments.countSegments(messageText());
    root.querySelector("[data-count-encoding]").textContent = info.encoding;
    root.querySelector("[data-count-characters]").textContent = info.characters;
    root.querySelector("[data-count-segments]").textContent = info.segments;
    root.querySelector("[data-count-segments-word]").textContent =
      info.segments === 1 ? "segment" : "segments";
    var box = root.querySelector("[data-culprits]");
    box.hidden = info.ucs2_characters.length === 0;
    root.querySelector("[data-culprit-list]").textContent = info.ucs2_characters
      .map(function (ch) { return ch === "\u00a0" ? "[non-breaking space]" : ch; })
      .join(" ");
  }

  var timer = null;
  function refreshPreview() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      data.append("body", body.value);
      if (footer && footer.checked) data.append("append_opt_out_footer", "on");
      data.append("contact", root.querySelector("[data-preview-contact]").value);
      fetch(config.preview_url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) root.querySelector("[data-preview]").innerHTML = html; });
    }, 300);
  }

  root.querySelector("[data-replace-culprits]").addEventListener("click", function () {
    body.value = window.SmsSegments.replaceCulprits(body.value);
    updateCounter();
    refreshPreview();
    body.focus();
  });
  [body, footer].forEach(function (el) {
    if (!el) return;
    el.addEventListener("input", function () { updateCounter(); refreshPreview(); });
    el.addEventListener("change", function () { updateCounter(); refreshPreview(); });
  });
  root.querySelector("[data-preview-contact]").addEventListener("change", refreshPreview);
  updateCounter();
  if (body.value) refreshPreview();
})();
