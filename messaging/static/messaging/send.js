// The send form's live count: the chosen template as this contact receives it (counted by
// the server), or the text being typed.
(function () {
  "use strict";
  var body = document.querySelector("[data-sms-body]");
  var out = document.querySelector("[data-send-counter]");
  var box = document.querySelector("[data-template-counts]");
  var select = document.getElementById("id_template");
  if (!body || !out || !window.SmsSegments) return;
  var counts = box ? JSON.parse(box.getAttribute("data-template-counts")) : {};
  function update() {
    if (select && select.value) { out.textContent = counts[select.value] || ""; return; }
    if (!body.value) { out.textContent = ""; return; }
    var info = window.SmsSegments.countSegments(body.value);
    out.textContent = info.encoding + " · " + info.characters + " characters · " +
      info.segments + (info.segments === 1 ? " segment" : " segments");
  }
  body.addEventListener("input", update);
  if (select) select.addEventListener("change", update);
  update();
})();
