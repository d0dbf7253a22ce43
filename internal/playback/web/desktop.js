// The desktop recording player: asks tech for the framebuffer at the
// playback time (api/frame) and draws what changed. Decryption and
// decoding happen in tech; this page only draws.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const fb = $("fb"), fctx = fb.getContext("2d");
  const cur = $("cursor"), cctx = cur.getContext("2d");
  let info = null, playing = false, speed = 1, pos = 0, lastWall = 0;
  let drawn = -1, busy = false, needFull = true, scrubbing = false;

  function clock(ms) {
    const s = Math.floor(ms / 1000);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function show(el, text) { el.textContent = text; el.hidden = !text; }

  function setPlaying(p) {
    playing = p && info.duration_ms > 0;
    if (playing && pos >= info.duration_ms) pos = 0;
    $("play").textContent = playing ? "Pause" : "Play";
    lastWall = performance.now();
  }
  function seek(ms) {
    pos = Math.max(0, Math.min(ms, info.duration_ms));
    lastWall = performance.now();
  }

  function draw(buf) {
    const v = new DataView(buf);
    let o = 0;
    const w = v.getUint16(o), h = v.getUint16(o + 2), t = v.getUint32(o + 4);
    const cx = v.getUint16(o + 8), cy = v.getUint16(o + 10), flags = v.getUint8(o + 12);
    o = 13;
    const elen = v.getUint16(o); o += 2;
    show($("error"), new TextDecoder().decode(new Uint8Array(buf, o, elen))); o += elen;
    const n = v.getUint16(o); o += 2;
    $("noscreen").hidden = !(flags & 0x08);
    if (w > 0 && (fb.width !== w || fb.height !== h)) {
      fb.width = cur.width = w; fb.height = cur.height = h;
    }
    for (let i = 0; i < n; i++) {
      const x = v.getUint16(o), y = v.getUint16(o + 2), rw = v.getUint16(o + 4), rh = v.getUint16(o + 6);
      o += 8;
      const px = new Uint8ClampedArray(buf, o, rw * rh * 4);
      fctx.putImageData(new ImageData(px, rw, rh), x, y);
      o += rw * rh * 4;
    }
    cctx.clearRect(0, 0, cur.width, cur.height);
    if ((flags & 0x06) === 0x06) {
      cctx.fillStyle = "#fff"; cctx.strokeStyle = "#000"; cctx.lineWidth = 1;
      cctx.beginPath(); cctx.moveTo(cx, cy); cctx.lineTo(cx, cy + 14); cctx.lineTo(cx + 9, cy + 10); cctx.closePath();
      cctx.fill(); cctx.stroke();
    }
    drawn = t;
    document.body.dataset.drawn = String(t);
  }

  function fetchFrame(ms) {
    busy = true;
    const q = "api/frame?t=" + ms + (needFull ? "&full=1" : "");
    needFull = false;
    fetch(q).then((r) => {
      if (!r.ok) throw new Error("tech answered " + r.status);
      return r.arrayBuffer();
    }).then(draw).catch((e) => {
      needFull = true;
      show($("error"), "Lost the connection to tech: " + e.message);
    }).finally(() => { busy = false; });
  }

  function tick(now) {
    if (playing) {
      pos += (now - lastWall) * speed;
      if (pos >= info.duration_ms) { pos = info.duration_ms; setPlaying(false); }
    }
    lastWall = now;
    const ms = Math.floor(pos);
    if (!scrubbing) $("timeline").value = String(ms);
    $("clock").textContent = clock(ms) + " / " + clock(info.duration_ms);
    if (!busy && ms !== drawn) fetchFrame(ms);
    requestAnimationFrame(tick);
  }

  function start(i) {
    info = i;
    if (i.title) { $("title").textContent = i.title; document.title = i.title; }
    show($("incomplete"), i.incomplete || "");
    $("timeline").max = String(i.duration_ms);
    speed = i.speed || 1;
    const sel = $("speed");
    if (![...sel.options].some((o) => Number(o.value) === speed)) {
      const o = document.createElement("option");
      o.value = String(speed); o.textContent = speed + "×"; sel.appendChild(o);
    }
    sel.value = String(speed);
    sel.addEventListener("change", () => { speed = Number(sel.value) || 1; });
    $("play").addEventListener("click", () => setPlaying(!playing));
    const tl = $("timeline");
    tl.addEventListener("input", () => { scrubbing = true; seek(Number(tl.value)); });
    tl.addEventListener("change", () => { scrubbing = false; });
    for (const m of i.markers) {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.textContent = clock(m.ms) + "  " + m.label;
      b.addEventListener("click", () => seek(m.ms));
      li.appendChild(b); $("markers").appendChild(li);
    }
    setInterval(() => fetch("api/ping").catch(() => {}), 5000); // keeps this page the open one
    document.body.dataset.ready = "1";
    requestAnimationFrame(tick);
  }

  fetch("api/info").then((r) => r.json()).then(start).catch((e) => show($("error"), "Cannot load the recording: " + e.message));
})();
