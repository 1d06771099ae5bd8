// The SMS segment rule of templates_sms/segments.py, for the editor. A test runs both on the
// same strings: keep them in step.
(function (root) {
  "use strict";

  var GSM7_BASIC =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENSION = "^{}\\[~]|€\f";
  var BASIC = new Set(Array.from(GSM7_BASIC));
  var EXTENSION = new Set(Array.from(GSM7_EXTENSION));
  var SINGLE = { "GSM-7": 160, "UCS-2": 70 };
  var MULTI = { "GSM-7": 153, "UCS-2": 67 };
  var REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u2009": " ", "\u2026": "..."
  };

  function cost(ch, encoding) {
    if (encoding === "GSM-7") return EXTENSION.has(ch) ? 2 : 1;
    return ch.codePointAt(0) > 0xffff ? 2 : 1;
  }

  function countSegments(text) {
    var chars = Array.from(text); // code points, as Python's str
    var culprits = [];
    chars.forEach(function (ch) {
      if (!BASIC.has(ch) && !EXTENSION.has(ch) && culprits.indexOf(ch) === -1) culprits.push(ch);
    });
    var encoding = culprits.length ? "UCS-2" : "GSM-7";
    var costs = chars.map(function (ch) { return cost(ch, encoding); });
    var units = costs.reduce(function (a, b) { return a + b; }, 0);
    var segments;
    if (units === 0) segments = 0;
    else if (units <= SINGLE[encoding]) segments = 1;
    else {
      var limit = MULTI[encoding], used = 0;
      segments = 1;
      costs.forEach(function (c) {
        if (used + c > limit) { segments += 1; used = 0; }
        used += c;
      });
    }
    return {
      encoding: encoding,
      characters: chars.length,
      units: units,
      segments: segments,
      ucs2_characters: culprits
    };
  }

  function replaceCulprits(text) {
    return Array.from(text).map(function (ch) {
      return Object.prototype.hasOwnProperty.call(REPLACEMENTS, ch) ? REPLACEMENTS[ch] : ch;
    }).join("");
  }

  var api = { countSegments: countSegments, replaceCulprits: replaceCulprits, REPLACEMENTS: REPLACEMENTS };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.SmsSegments = api;
})(this);
