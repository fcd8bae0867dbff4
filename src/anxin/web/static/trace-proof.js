// The public trace page checks its own proof: each opened fact against its salted
// commitment, the manifest against the ledger leaf, and the leaf's Merkle path (RFC 9162)
// up to the root in the signed checkpoint. Nothing here trusts the server's word.
"use strict";
(function () {
  const enc = new TextEncoder();
  const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
  const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const sha = (bytes) => crypto.subtle.digest("SHA-256", bytes);
  const cat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  // RFC 8785 for what the manifest holds (strings, integers, null, arrays, objects).
  const canon = (v) => {
    if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
    if (v && typeof v === "object") {
      return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
    }
    return JSON.stringify(v);
  };

  async function rootFromProof(index, size, leaf, proof) {
    let fn = index, sn = size - 1;
    let r = new Uint8Array(await sha(cat(new Uint8Array([0]), leaf)));
    for (const p of proof) {
      if (sn === 0) return null;
      if ((fn & 1) === 1 || fn === sn) {
        r = new Uint8Array(await sha(cat(new Uint8Array([1]), p, r)));
        while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
      } else {
        r = new Uint8Array(await sha(cat(new Uint8Array([1]), r, p)));
      }
      fn >>= 1; sn >>= 1;
    }
    return sn === 0 ? r : null;
  }

  async function check(ev) {
    // Events are named by a salted reference; manifests from before it used the event hash.
    const committed = {};
    for (const e of ev.manifest.events) committed[e.ref ?? e.event] = e.fields;
    for (const o of ev.openings) {
      const ref = o.ref ?? o.event;
      for (const [field, opened] of Object.entries(o.fields)) {
        const msg = enc.encode(JSON.stringify([ref, field, opened.value]));
        const got = hex(await sha(cat(unhex(opened.salt), msg)));
        if (got !== (committed[ref] || {})[field]) return "opening " + field;
      }
    }
    if (hex(await sha(enc.encode(canon(ev.manifest)))) !== ev.digest) return "manifest digest";
    const leaf = enc.encode(ev.bundle.leaf);
    if (JSON.parse(ev.bundle.leaf).payload_sha256 !== ev.digest) return "leaf payload";
    const lines = ev.bundle.checkpoint.split("\n");
    const size = parseInt(lines[1], 10);
    const root = hex(unb64(lines[2]));
    const got = await rootFromProof(ev.bundle.index, size, leaf, ev.bundle.proof.map(unb64));
    if (!got || hex(got) !== root) return "inclusion proof";
    return null;
  }

  const status = document.getElementById("proof-status");
  const data = document.getElementById("evidence");
  if (status && data) {
    check(JSON.parse(data.textContent)).then((problem) => {
      status.dataset.verified = problem ? "false" : "true";
      status.textContent = problem ? status.dataset.bad + " (" + problem + ")" : status.dataset.ok;
    }, (err) => {
      status.dataset.verified = "false";
      status.textContent = status.dataset.bad + " (" + err + ")";
    });
  }

  const form = document.getElementById("report-form");
  if (form) {
    fetch("/api/v1/trace/scans", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ gtin: form.dataset.gtin, serial: form.dataset.serial }),
    }).catch(() => {});
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = document.getElementById("report-result");
      const r = await fetch("/api/v1/trace/reports", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          gtin: form.dataset.gtin,
          serial: form.dataset.serial,
          description: document.getElementById("report-text").value,
        }),
      });
      const body = await r.json();
      out.textContent = r.ok ? form.dataset.sent + " " + body.case : (body.detail || body.message || r.status);
    });
  }
})();
