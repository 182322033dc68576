// The in-car screen's script. The daemon renders every part of the screen; this file only swaps
// the fragments it pushes over SSE (no polling), sends the officer's actions with the CSRF
// header, switches views, ticks the clock and countdowns, and beeps for a new call. The
// emergency button does not depend on it (assets/emergency.js).
'use strict';
(function () {
  const csrf = document.querySelector('meta[name="mdt-csrf"]').content;
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  let selectedCall = null;
  let noteCall = null;
  let clearCall = null;
  const seenNewCalls = new Set();
  const seenMessages = new Set();
  let lastActivityPing = 0;

  // ---- helpers -------------------------------------------------------------------------------
  function toast(text, bad) {
    const t = $('toast');
    t.textContent = text;
    t.className = bad ? 'show bad' : 'show';
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.className = ''; }, bad ? 6000 : 2500);
  }

  async function post(path, data) {
    let res;
    try {
      res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mdt-csrf': csrf }, body: JSON.stringify(data || {}) });
    } catch {
      toast('The screen cannot reach the car\'s daemon.', true);
      return { ok: false, status: 0, body: {} };
    }
    const out = res.status === 204 ? {} : await res.json().catch(() => ({}));
    if (!res.ok && res.status !== 401 && res.status !== 429) toast(out.message || 'Refused', true);
    return { ok: res.ok, status: res.status, body: out };
  }

  function fmtAge(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min';
    return Math.floor(m / 60) + ' h ' + String(m % 60).padStart(2, '0');
  }
  function fmtLeft(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  function tick() {
    const now = Date.now();
    const d = new Date(now);
    $('clock').textContent = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') + ':' + String(d.getSeconds()).padStart(2, '0');
    document.querySelectorAll('[data-since]').forEach((el) => { el.textContent = fmtAge(now - Number(el.dataset.since)); });
    document.querySelectorAll('[data-until]').forEach((el) => { el.textContent = fmtLeft(Number(el.dataset.until) - now); });
  }

  // ---- sound: a three-tone beep made with Web Audio (no audio file to fetch) ------------------
  let audio = null;
  function unlockAudio() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === 'suspended') audio.resume();
    } catch { audio = null; }
  }
  // A new call: three square tones rising at the end; a new message: two softer falling tones,
  // so the officer can tell them apart without looking.
  function beep(kind) {
    if (!audio) unlockAudio();
    if (!audio) return;
    const t0 = audio.currentTime;
    const tones = kind === 'message' ? [[0, 1175], [0.2, 880]] : [[0, 880], [0.25, 880], [0.5, 1320]];
    tones.forEach(([dt, freq]) => {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.type = kind === 'message' ? 'sine' : 'square';
      o.frequency.value = freq;
      g.gain.setValueAtTime(0.0001, t0 + dt);
      g.gain.exponentialRampToValueAtTime(0.25, t0 + dt + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t0 + dt + 0.18);
      o.connect(g).connect(audio.destination);
      o.start(t0 + dt);
      o.stop(t0 + dt + 0.2);
    });
    if (kind === 'message') body.dataset.messageBeeps = String(Number(body.dataset.messageBeeps || 0) + 1);
    else body.dataset.beeps = String(Number(body.dataset.beeps || 0) + 1);
  }

  // ---- views ---------------------------------------------------------------------------------
  function showView(view) {
    document.querySelectorAll('[data-view]').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.view === view)));
    document.querySelectorAll('main > section').forEach((s) => { s.hidden = s.id !== 'view-' + view; });
    body.dataset.screen = view;
  }
  function applySelection() {
    let found = false;
    document.querySelectorAll('#detail [data-detail]').forEach((a) => {
      const on = a.dataset.detail === selectedCall;
      a.hidden = !on;
      found = found || on;
    });
    $('no-call').hidden = found;
  }
  function openCall(id) {
    selectedCall = id;
    applySelection();
    showView('call');
  }

  // ---- live fragments --------------------------------------------------------------------------
  function swap(id, html) {
    const el = $(id);
    if (!el) return;
    // Keep keyboard focus on the same control across a swap (same data-* key, or same checkbox).
    const a = document.activeElement;
    let key = null;
    if (a && el.contains(a) && a.name === 'to') key = 'input[name="to"][value="' + a.value + '"]';
    else if (a && el.contains(a)) {
      for (const attr of ['data-accept', 'data-open-call', 'data-markread', 'data-markmsg', 'data-compose', 'data-clear', 'data-note-for']) {
        if (a.hasAttribute(attr)) { key = '[' + attr + '="' + a.getAttribute(attr) + '"]'; break; }
      }
    }
    // The compose dialog's recipients are re-rendered when a unit's status changes: keep the ticks.
    const ticked = new Set([...el.querySelectorAll('input[name="to"]:checked')].map((i) => i.value));
    el.innerHTML = html;
    el.querySelectorAll('input[name="to"]').forEach((i) => { if (ticked.has(i.value)) i.checked = true; });
    if (key) { const again = el.querySelector(key); if (again) again.focus(); }
  }

  function applyMeta(m) {
    if (body.dataset.session !== m.session) {
      body.dataset.session = m.session;
      $('lock-error').textContent = '';
      if (m.session === 'signed_off') { $('badge').value = ''; $('pin').value = ''; setTimeout(() => $('badge').focus(), 0); }
      if (m.session === 'locked') { $('unlock-pin').value = ''; setTimeout(() => $('unlock-pin').focus(), 0); }
      if (m.session !== 'active') document.querySelectorAll('dialog[open]').forEach((d) => d.close());
    }
    body.dataset.status = m.status || '';
    document.querySelectorAll('.rail [data-status], .rail [data-status-like]').forEach((b) => {
      b.setAttribute('aria-pressed', String((b.dataset.status || b.dataset.statusLike) === m.status));
    });
    if (!selectedCall && m.call) selectedCall = m.call;
  }

  function onPush(push) {
    for (const [id, html] of Object.entries(push.f)) swap(id, html);
    applyMeta(push.m);
    applySelection();
    tick();
    // A call newly dispatched to this unit: beep once per call.
    document.querySelectorAll('#banner [data-new-call]').forEach((el) => {
      const id = el.dataset.newCall;
      if (!seenNewCalls.has(id)) { seenNewCalls.add(id); beep('call'); }
    });
    // A new message to this unit: beep once per message.
    document.querySelectorAll('#msg-alert [data-new-message]').forEach((el) => {
      const id = el.dataset.newMessage;
      if (!seenMessages.has(id)) { seenMessages.add(id); beep('message'); }
    });
    if (body.dataset.live !== 'true') {
      body.dataset.live = 'true';
      // Time to interactive as the bench reads it: the first live frame is on screen.
      if (window.performance && performance.mark) performance.mark('mdt-live');
    }
  }

  // The first stream continues from the frame this page was rendered with; a reconnect (the
  // browser reuses the URL) finds that frame gone and gets everything.
  const frame = document.querySelector('meta[name="mdt-frame"]').content;
  const es = new EventSource(frame ? '/events?since=' + encodeURIComponent(frame) : '/events');
  es.addEventListener('frag', (e) => onPush(JSON.parse(e.data)));
  es.addEventListener('open', () => { body.classList.remove('daemon-lost'); });
  es.onerror = () => {
    body.classList.add('daemon-lost');
    $('hdr-link').innerHTML = '<span class="bad">Screen lost the daemon</span>';
  };

  // ---- actions ---------------------------------------------------------------------------------
  document.addEventListener('click', async (e) => {
    const t = e.target instanceof HTMLElement ? e.target.closest('button') : null;
    if (!t) return;
    unlockAudio();
    const d = t.dataset;
    if (d.view) return showView(d.view);
    if (d.goto) return showView(d.goto);
    if (d.openCall) return openCall(d.openCall);
    if (d.oos) return $('oos-dialog').showModal();
    if (d.status) {
      const r = await post('/api/status', d.reason ? { status: d.status, reason: d.reason } : { status: d.status });
      if (r.ok) toast('Status: ' + t.textContent.trim());
      const dlg = t.closest('dialog');
      if (dlg) dlg.close();
      return;
    }
    if (d.accept) {
      const r = await post('/api/calls/' + encodeURIComponent(d.accept) + '/accept');
      if (r.ok) { toast('Call accepted: en route'); selectedCall = d.accept; }
      return;
    }
    if (d.markread) return void post('/api/reports/' + encodeURIComponent(d.markread) + '/read');
    if (d.markmsg) return void post('/api/messages/' + encodeURIComponent(d.markmsg) + '/read');
    if (d.compose !== undefined) return compose(d.compose);
    if (d.noteFor) {
      noteCall = d.noteFor;
      $('note-call').textContent = 'Call ' + noteCall;
      $('note-text').value = '';
      return $('note-dialog').showModal();
    }
    if (d.clear) {
      clearCall = d.clear;
      $('clear-call').textContent = 'Call ' + clearCall;
      return $('clear-dialog').showModal();
    }
    if (d.disposition && clearCall) {
      const r = await post('/api/calls/' + encodeURIComponent(clearCall) + '/clear', { disposition: d.disposition });
      if (r.ok) { toast('Call cleared: ' + d.disposition); $('clear-dialog').close(); selectedCall = null; showView('queue'); }
      return;
    }
    if (d.key) return keypad(d.key);
    if (t.hasAttribute('data-close')) return t.closest('dialog').close();
    if (t.id === 'lock-btn') return void post('/api/session/lock');
    if (t.id === 'signoff-btn') {
      const r = await post('/api/session/sign-off');
      if (r.ok) toast('Signed off');
      return;
    }
    if (t.id === 'theme') {
      const night = document.documentElement.dataset.theme !== 'night';
      document.documentElement.dataset.theme = night ? 'night' : 'day';
      document.querySelector('meta[name="color-scheme"]').content = night ? 'dark' : 'light';
      t.textContent = night ? 'Day' : 'Night';
      t.setAttribute('aria-label', 'Switch to ' + (night ? 'day' : 'night') + ' theme');
      return void post('/api/theme', { theme: night ? 'night' : 'day' });
    }
  });

  // ---- messages: compose to units of the sector and/or dispatch ---------------------------------
  function compose(to) {
    $('msg-text').value = '';
    document.querySelectorAll('#msg-to input[name="to"]').forEach((i) => { i.checked = i.value === to; });
    $('msg-dialog').showModal();
    const first = to ? $('msg-text') : document.querySelector('#msg-to input[name="to"]');
    if (first) first.focus();
  }
  $('msg-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const to = [...document.querySelectorAll('#msg-to input[name="to"]:checked')].map((i) => (i.value === 'dispatch' ? { kind: 'dispatch' } : { kind: 'unit', id: i.value }));
    if (to.length === 0) return toast('Choose at least one recipient', true);
    const text = $('msg-text').value.trim();
    if (!text) return;
    const r = await post('/api/messages', { to, text });
    if (r.ok) { toast('Message sent'); $('msg-dialog').close(); }
  });

  $('note-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = $('note-text').value.trim();
    if (!text || !noteCall) return;
    const r = await post('/api/calls/' + encodeURIComponent(noteCall) + '/notes', { text });
    if (r.ok) { toast('Note added'); $('note-dialog').close(); }
  });

  // ---- sign on, unlock, on-screen keypad ---------------------------------------------------------
  function lockError(r) {
    $('lock-error').textContent = r.body.message || 'Refused';
  }
  $('signon-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    unlockAudio();
    const r = await post('/api/session/sign-on', { badge: $('badge').value.trim(), pin: $('pin').value });
    $('pin').value = '';
    if (!r.ok) lockError(r);
  });
  $('unlock-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    unlockAudio();
    const r = await post('/api/session/unlock', { pin: $('unlock-pin').value });
    $('unlock-pin').value = '';
    if (!r.ok) lockError(r);
  });
  let keyTarget = null;
  document.addEventListener('focusin', (e) => { if (e.target instanceof HTMLInputElement && e.target.closest('#lock')) keyTarget = e.target; });
  function keypad(k) {
    const input = keyTarget || (body.dataset.session === 'locked' ? $('unlock-pin') : $('badge'));
    if (k === 'Clear') input.value = '';
    else if (k === 'Del') input.value = input.value.slice(0, -1);
    else input.value += k;
    input.focus();
  }

  // ---- keyboard: Alt+1..5 switch views; Escape closes dialogs (native) ------------------------
  const VIEWS = ['queue', 'call', 'map', 'inbox', 'beat'];
  document.addEventListener('keydown', (e) => {
    if (e.altKey && e.key >= '1' && e.key <= '5' && body.dataset.session === 'active') {
      e.preventDefault();
      showView(VIEWS[Number(e.key) - 1]);
    }
  });

  // ---- activity keeps the session unlocked (at most one ping per 15 s) -------------------------
  function activity() {
    if (body.dataset.session !== 'active') return;
    const now = Date.now();
    if (now - lastActivityPing < 15000) return;
    lastActivityPing = now;
    void post('/api/session/activity');
  }
  document.addEventListener('pointerdown', activity, { passive: true });
  document.addEventListener('keydown', activity);

  showView('queue');
  applySelection();
  tick();
  setInterval(tick, 1000);
  body.dataset.ready = 'true';
})();
