// Keeps parts of a console page current: every element with data-live-src is refetched from
// that URL whenever the server-sent event stream reports a change the viewer may see.
(function () {
  "use strict";
  var targets = document.querySelectorAll("[data-live-src]");
  var badge = document.getElementById("live-status");
  if (!targets.length || !window.EventSource) return;
  var pending = false;
  var again = false;
  function refresh() {
    // A change reported while a refetch is in flight may be missing from its answer: ask
    // once more when it is done (several such reports make one more refetch, not several).
    if (pending) { again = true; return; }
    pending = true;
    var jobs = Array.prototype.map.call(targets, function (el) {
      return fetch(el.getAttribute("data-live-src"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) el.innerHTML = html; });
    });
    Promise.all(jobs).finally(function () {
      pending = false;
      if (again) { again = false; refresh(); }
    });
  }
  var source = new EventSource("/console/stream");
  // Refresh on (re)connect too, so nothing raised while the stream was down is missed.
  source.onopen = function () {
    if (badge) badge.className = "pill ok";
    document.body.setAttribute("data-live", "open");
    refresh();
  };
  source.onmessage = function (event) {
    // Call negotiation (offer, answer, ICE candidates) is call.js's; the page has not changed.
    try { if (JSON.parse(event.data).quiet) return; } catch (e) { /* not JSON: refresh */ }
    refresh();
  };
  source.onerror = function () {
    if (badge) badge.className = "pill off";
    document.body.setAttribute("data-live", "down");
  };
})();
