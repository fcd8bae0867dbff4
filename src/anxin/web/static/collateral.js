// Collateral pages: besides the SSE-driven refresh (live.js), refetch the live fragments every
// data-refresh-s seconds, since a lift that raises no alarm sends no event to the stream.
(function () {
  "use strict";
  var targets = document.querySelectorAll("[data-live-src][data-refresh-s]");
  Array.prototype.forEach.call(targets, function (el) {
    var every = parseFloat(el.getAttribute("data-refresh-s")) || 10;
    setInterval(function () {
      if (document.hidden) return;
      fetch(el.getAttribute("data-live-src"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) el.innerHTML = html; });
    }, every * 1000);
  });
})();
