// The terminal recording player: the vendored asciinema-player plays the
// asciicast tech serves (cast); markers seek it.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  function clock(ms) {
    const s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  fetch("api/info").then((r) => r.json()).then((info) => {
    if (info.title) { $("title").textContent = info.title; document.title = info.title; }
    if (info.incomplete) { $("incomplete").textContent = info.incomplete; $("incomplete").hidden = false; }
    const player = AsciinemaPlayer.create("cast", $("player"), {
      speed: info.speed || 1, idleTimeLimit: 2, fit: "width", preload: true,
      poster: "npt:" + Math.ceil(info.duration_ms / 1000 + 1), // the last screen until played
    });
    for (const m of info.markers) {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.textContent = clock(m.ms) + "  " + m.label;
      b.addEventListener("click", () => player.seek(m.ms / 1000));
      li.appendChild(b); $("markers").appendChild(li);
    }
    setInterval(() => fetch("api/ping").catch(() => {}), 5000); // keeps this page the open one
    document.body.dataset.ready = "1";
  });
})();
