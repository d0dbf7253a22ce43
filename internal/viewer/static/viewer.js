// The Tether viewer page: draws the device's screen that tech sends over a
// WebSocket and sends keyboard and pointer input back. Everything the
// device controls is shown with textContent, never as HTML.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const screen = $('screen');
  const ctx = screen.getContext('2d', { alpha: false });
  const curCanvas = $('cursor');
  const curCtx = curCanvas.getContext('2d');
  const cursor = { x: 0, y: 0, hotX: 0, hotY: 0, visible: false, shaped: false };
  let ws = null;
  let status = null;
  let wheelX = 0;
  let wheelY = 0;
  // Progress for tests and the curious: updates drawn, the last ID.
  const stats = { updates: 0, lastId: -1, connected: false };
  window.tetherViewer = stats;

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function connect() {
    const url = new URL('ws', location.href);
    url.protocol = 'ws:';
    ws = new WebSocket(url.href);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { stats.connected = true; };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') onStatus(JSON.parse(ev.data));
      else onBinary(ev.data);
    };
    ws.onclose = (ev) => {
      stats.connected = false;
      const c = $('conn');
      c.textContent = ev.reason ? 'Disconnected: ' + ev.reason : 'Disconnected from tech.';
      c.hidden = false;
      document.body.classList.remove('control');
      $('control').hidden = true;
    };
  }

  function onBinary(buf) {
    const v = new DataView(buf);
    switch (v.getUint8(0)) {
      case 1: drawUpdate(v, buf); break;
      case 2: onCursor(v, buf); break;
    }
  }

  // An update: its rectangles as RGBA; acknowledged once painted.
  function drawUpdate(v, buf) {
    const id = v.getUint32(1);
    const w = v.getUint16(5);
    const h = v.getUint16(7);
    const n = v.getUint16(9);
    if (screen.width !== w || screen.height !== h) {
      screen.width = w;
      screen.height = h;
    }
    let off = 11;
    for (let i = 0; i < n; i++) {
      const x = v.getUint16(off);
      const y = v.getUint16(off + 2);
      const rw = v.getUint16(off + 4);
      const rh = v.getUint16(off + 6);
      off += 8;
      const len = rw * rh * 4;
      if (rw > 0 && rh > 0) {
        ctx.putImageData(new ImageData(new Uint8ClampedArray(buf, off, len), rw, rh), x, y);
      }
      off += len;
    }
    placeCursor();
    const ack = () => {
      send({ t: 'ack', id: id });
      stats.updates++;
      stats.lastId = id;
    };
    if (document.hidden) ack();
    else requestAnimationFrame(ack);
  }

  function onCursor(v, buf) {
    cursor.x = v.getUint16(1);
    cursor.y = v.getUint16(3);
    const flags = v.getUint8(5);
    cursor.visible = (flags & 1) !== 0;
    if (flags & 2) {
      cursor.hotX = v.getUint16(6);
      cursor.hotY = v.getUint16(8);
      const w = v.getUint16(10);
      const h = v.getUint16(12);
      curCanvas.width = w;
      curCanvas.height = h;
      curCtx.putImageData(new ImageData(new Uint8ClampedArray(buf.slice(14, 14 + w * h * 4)), w, h), 0, 0);
      cursor.shaped = true;
    }
    placeCursor();
  }

  // The remote cursor, drawn over the screen at the page's scale.
  function placeCursor() {
    curCanvas.hidden = !cursor.visible || !cursor.shaped;
    const scale = screen.clientWidth / screen.width || 1;
    curCanvas.style.left = ((cursor.x - cursor.hotX) * scale) + 'px';
    curCanvas.style.top = ((cursor.y - cursor.hotY) * scale) + 'px';
    curCanvas.style.width = (curCanvas.width * scale) + 'px';
    curCanvas.style.height = (curCanvas.height * scale) + 'px';
  }

  function onStatus(s) {
    if (s.type !== 'status') return;
    status = s;
    $('device').textContent = s.device || '';
    $('code').textContent = s.code || '';
    $('caps').textContent = s.caps && s.caps.length ? s.caps.join(', ') : 'none';
    $('mode').textContent = s.ended ? 'Ended' : s.control ? 'You have control' : 'View only';
    $('control').hidden = !s.input || s.control || s.ended;
    $('paused').hidden = !s.paused || s.ended;
    $('why').textContent = s.why || '';
    $('notice').textContent = s.notice || '';
    $('path').textContent = s.path || 'relay';
    $('ended').hidden = !s.ended;
    $('reason').textContent = s.reason || '';
    document.body.classList.toggle('control', !!s.control && !s.ended);
  }

  function canInput() {
    return status !== null && status.input && status.control && !status.ended;
  }

  // The pointer in remote pixels: the page scales the screen to fit.
  function remote(ev) {
    const r = screen.getBoundingClientRect();
    const clamp = (v, hi) => Math.max(0, Math.min(hi, v));
    return {
      x: clamp(Math.floor((ev.clientX - r.left) * screen.width / r.width), screen.width - 1),
      y: clamp(Math.floor((ev.clientY - r.top) * screen.height / r.height), screen.height - 1),
    };
  }

  function pointer(ev) {
    if (!canInput()) return;
    const p = remote(ev);
    send({ t: 'ptr', x: p.x, y: p.y, b: ev.buttons });
  }

  screen.addEventListener('pointermove', pointer);
  screen.addEventListener('pointerdown', (ev) => {
    screen.focus();
    if (!canInput()) return;
    ev.preventDefault();
    screen.setPointerCapture(ev.pointerId);
    pointer(ev);
  });
  screen.addEventListener('pointerup', (ev) => {
    if (!canInput()) return;
    ev.preventDefault();
    pointer(ev);
  });
  screen.addEventListener('contextmenu', (ev) => ev.preventDefault());
  screen.addEventListener('wheel', (ev) => {
    if (!canInput()) return;
    ev.preventDefault();
    // One notch: 100 pixels or 3 lines, as browsers scroll.
    const unit = ev.deltaMode === 0 ? 100 : ev.deltaMode === 1 ? 3 : 1;
    wheelX += ev.deltaX / unit;
    wheelY += ev.deltaY / unit;
    const dx = Math.max(-10, Math.min(10, Math.trunc(wheelX)));
    const dy = Math.max(-10, Math.min(10, Math.trunc(wheelY)));
    if (dx === 0 && dy === 0) return;
    wheelX -= dx;
    wheelY -= dy;
    send({ t: 'wheel', dx: dx, dy: dy });
  }, { passive: false });

  function key(down) {
    return (ev) => {
      if (!canInput() || ev.isComposing) return;
      ev.preventDefault();
      send({ t: 'key', key: ev.key, code: ev.code, down: down });
    };
  }
  screen.addEventListener('keydown', key(true));
  screen.addEventListener('keyup', key(false));
  screen.addEventListener('blur', () => send({ t: 'release' }));
  window.addEventListener('blur', () => send({ t: 'release' }));
  window.addEventListener('resize', placeCursor);

  $('control').addEventListener('click', () => send({ t: 'control' }));
  $('refresh').addEventListener('click', () => send({ t: 'refresh' }));

  connect();
})();
