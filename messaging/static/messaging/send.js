// The send form's live count for free text (templates are counted in their editor).
(function () {
  "use strict";
  var body = document.querySelector("[data-sms-body]");
  var out = document.querySelector("[data-send-counter]");
  if (!body || !out || !window.SmsSegments) return;
  function update() {
    if (!body.value) { out.textContent = ""; return; }
    var info = window.SmsSegments.countSegments(body.value);
    out.textContent = info.encoding + " · " + info.characters + " characters · " +
      info.segments + (info.segments === 1 ? " segment" : " segments");
  }
  body.addEventListener("input", update);
  update();
})();
