// A consultation's voice or video call: WebRTC between the doctor's and the elder's pages.
// anxin is the only signalling channel: ring, answer and hang-up, and the offer, answer and
// ICE candidates, are POSTed to the consultation's call API and come back to the other page
// over the console's event stream (/console/stream). The media goes browser to browser.
(function () {
  "use strict";
  var root = document.getElementById("call");
  if (!root || !window.RTCPeerConnection || !window.EventSource) return;
  var consultation = root.getAttribute("data-consultation");
  var me = root.getAttribute("data-me");
  var side = root.getAttribute("data-side"); // "doctor" calls, "elder" answers
  var base = "/api/v1/consult/consultations/" + consultation + "/calls";
  var state = document.getElementById("call-state");
  var remoteVideo = document.getElementById("remote-video");
  var localVideo = document.getElementById("local-video");
  var answerButton = document.getElementById("call-answer");
  var hangupButton = document.getElementById("call-hangup");
  var ringButtons = Array.prototype.slice.call(root.querySelectorAll("button[data-call-mode]"));
  var call = null; // {id, mode} of the open call
  var pc = null;
  var stream = null;
  var early = []; // candidates that came before the remote description
  var outbox = Promise.resolve(); // signals leave in order: an offer before its candidates

  function show(name) {
    state.textContent = root.getAttribute("data-l-" + name) || name;
    state.setAttribute("data-state", name);
  }
  function buttons(inCall) {
    ringButtons.forEach(function (b) { b.hidden = inCall; });
    hangupButton.hidden = !inCall;
  }
  function post(path, body) {
    return fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      if (!r.ok) throw new Error("POST " + path + ": " + r.status);
      return r.status === 204 ? null : r.json();
    });
  }
  function send(signal) {
    var id = call && call.id;
    if (!id) return;
    outbox = outbox.then(function () { return post("/" + id + "/signals", signal); })
      .catch(function (e) { console.error(e); });
  }
  function media(mode) {
    return navigator.mediaDevices.getUserMedia({ audio: true, video: mode === "video" })
      .then(function (s) { stream = s; localVideo.srcObject = s; });
  }
  function peer() {
    pc = new RTCPeerConnection({ iceServers: [] }); // same network: no STUN or TURN
    stream.getTracks().forEach(function (track) { pc.addTrack(track, stream); });
    pc.ontrack = function (e) { remoteVideo.srcObject = e.streams[0]; };
    pc.onicecandidate = function (e) {
      if (!e.candidate) return;
      send({ kind: "candidate", candidate: e.candidate.candidate, sdp_mid: e.candidate.sdpMid,
             sdp_mline_index: e.candidate.sdpMLineIndex });
    };
    pc.onconnectionstatechange = function () {
      if (!pc) return;
      root.setAttribute("data-connection", pc.connectionState);
      if (pc.connectionState === "connected") show("connected");
      if (pc.connectionState === "failed") show("failed");
    };
  }
  function remote(description) {
    return pc.setRemoteDescription(description).then(function () {
      var waiting = early;
      early = [];
      return Promise.all(waiting.map(function (c) { return pc.addIceCandidate(c); }));
    });
  }
  function teardown(name) {
    if (pc) { pc.close(); pc = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    remoteVideo.srcObject = null;
    localVideo.srcObject = null;
    call = null;
    early = [];
    answerButton.hidden = true;
    buttons(false);
    root.removeAttribute("data-connection");
    show(name);
  }
  function failed(e) {
    console.error(e);
    if (call) post("/" + call.id + "/end").catch(function () {});
    teardown("failed");
  }

  ringButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      var mode = button.getAttribute("data-call-mode");
      media(mode)
        .then(function () { return post("", { mode: mode }); })
        .then(function (c) { call = { id: c.id, mode: c.mode }; buttons(true); show("ringing"); })
        .catch(failed);
    });
  });
  answerButton.addEventListener("click", function () {
    if (!call) return;
    answerButton.hidden = true;
    media(call.mode)
      .then(function () { return post("/" + call.id + "/answer"); })
      .then(function () { buttons(true); show("connecting"); })
      .catch(failed);
  });
  hangupButton.addEventListener("click", function () {
    if (!call) return;
    var id = call.id;
    teardown("ended");
    post("/" + id + "/end").catch(function (e) { console.error(e); });
  });

  function onSignal(m) {
    if (m.subject !== "consult.consultation.signal" || m.owner_id !== consultation) return;
    if (m.from_user_id === me) return; // our own, echoed by the stream
    if (m.kind === "ring") {
      if (side !== "elder" || call) return;
      call = { id: m.call_id, mode: m.mode };
      answerButton.hidden = false;
      show("incoming");
      return;
    }
    if (!call || m.call_id !== call.id) return;
    if (m.kind === "ended") {
      teardown("ended");
    } else if (m.kind === "answered") {
      if (side === "elder") {
        if (!stream) teardown("elsewhere"); // another member of the family picked up
        return;
      }
      // The elder's page is listening now: make the offer.
      show("connecting");
      peer();
      pc.createOffer()
        .then(function (offer) { return pc.setLocalDescription(offer); })
        .then(function () { send({ kind: "offer", sdp: pc.localDescription.sdp }); })
        .catch(failed);
    } else if (m.kind === "offer" && side === "elder" && stream && !pc) {
      peer();
      remote({ type: "offer", sdp: m.sdp })
        .then(function () { return pc.createAnswer(); })
        .then(function (answer) { return pc.setLocalDescription(answer); })
        .then(function () { send({ kind: "answer", sdp: pc.localDescription.sdp }); })
        .catch(failed);
    } else if (m.kind === "answer" && side === "doctor" && pc) {
      remote({ type: "answer", sdp: m.sdp }).catch(failed);
    } else if (m.kind === "candidate") {
      var candidate = new RTCIceCandidate({ candidate: m.candidate, sdpMid: m.sdp_mid,
                                            sdpMLineIndex: m.sdp_mline_index });
      if (pc && pc.remoteDescription) pc.addIceCandidate(candidate).catch(console.error);
      else early.push(candidate);
    }
  }

  // A call that was open when the page loaded: the elder may still answer a ringing one;
  // otherwise this page lost its half of the media (a reload), so it can only hang up.
  var openId = root.getAttribute("data-call-id");
  if (openId) {
    call = { id: openId, mode: root.getAttribute("data-call-mode") };
    var ringing = root.getAttribute("data-call-status") === "ringing";
    if (side === "elder" && ringing) { answerButton.hidden = false; show("incoming"); }
    else { buttons(true); show(ringing ? "ringing" : "connecting"); }
  }

  var source = new EventSource("/console/stream");
  source.onopen = function () { root.setAttribute("data-signal", "open"); };
  source.onerror = function () { root.setAttribute("data-signal", "down"); };
  source.onmessage = function (event) {
    var message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    onSignal(message);
  };
})();
