// The farmer's capture form: show the fields of the chosen step, and keep working offline —
// a step recorded without a connection is kept on the phone (with the time the farmer gave
// it) and sent when the phone is back online, oldest first.
(() => {
  "use strict";
  const form = document.getElementById("capture-form");
  if (!form) return;
  const KEY = "anxin.trace.capture-queue";
  const step = form.querySelector("[name=step]");
  const status = document.getElementById("capture-queue");

  function showFields() {
    for (const set of form.querySelectorAll("fieldset[data-for]")) {
      set.hidden = !set.dataset.for.split(" ").includes(step.value);
    }
  }
  step.addEventListener("change", showFields);
  showFields();

  const load = () => JSON.parse(localStorage.getItem(KEY) || "[]");
  const save = (items) => localStorage.setItem(KEY, JSON.stringify(items));
  function show() {
    const n = load().length;
    status.hidden = n === 0;
    status.dataset.queued = String(n);
    status.textContent = `${status.dataset.label} ${n}`;
  }

  async function flush() {
    let items = load();
    while (items.length && navigator.onLine) {
      const r = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(items[0]),
        credentials: "same-origin",
      }).catch(() => null);
      if (!r || r.redirected) break; // offline after all, or logged out: keep it for later
      // Sent, or refused for good (a 4xx will not get better by resending): drop it.
      if (r.ok || (r.status >= 400 && r.status < 500)) items = items.slice(1);
      else break;
      save(items);
    }
    show();
  }

  form.addEventListener("submit", (event) => {
    if (navigator.onLine) return; // the ordinary post
    event.preventDefault();
    save([...load(), [...new FormData(form).entries()]]);
    show();
  });
  window.addEventListener("online", flush);
  show();
  flush();
})();
