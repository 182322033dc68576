// Live in-car screen: renders the snapshot and every pushed event from /events (SSE). No polling.
'use strict';
(function () {
  const csrf = document.querySelector('meta[name="mdt-csrf"]').content;
  const state = { identity: null, board: null, health: null, positions: {} };
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (ch) => '&#' + ch.charCodeAt(0) + ';');

  async function post(path, body) {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mdt-csrf': csrf }, body: JSON.stringify(body || {}) });
    if (!res.ok) {
      const err = await res.json().catch(() => ({ message: res.statusText }));
      alert(err.message || 'refused');
    }
  }

  function renderHeader() {
    const me = state.board && state.identity ? state.board.units[state.identity.unitId] : null;
    $('status').textContent = me ? me.status.replace(/_/g, ' ') : 'unknown';
    document.querySelectorAll('#status-buttons button').forEach((b) => b.setAttribute('aria-pressed', String(me && me.status === b.dataset.status)));
    const h = state.health;
    if (h) {
      $('link').textContent = h.broker.state === 'online' ? 'online' : h.broker.state + (h.sync.pending ? ' (changes waiting)' : '');
      $('gps').textContent = h.gps.state === 'ok' ? 'fix' : h.gps.state + (h.gps.reason ? ': ' + h.gps.reason : '');
      $('modem').textContent = h.modem.state;
    }
  }

  function renderCalls() {
    if (!state.board) return;
    const open = Object.values(state.board.calls).filter((c) => c.state !== 'cleared' && c.state !== 'cancelled').sort((a, b) => a.priority - b.priority || a.receivedAt - b.receivedAt);
    $('call-count').textContent = '(' + open.length + ')';
    const me = state.identity.unitId;
    $('calls').innerHTML = open.map((c) => {
      const mine = c.assigned.includes(me);
      const btn = mine && c.state === 'dispatched' ? '<button type="button" data-accept="' + esc(c.id) + '">Accept</button>' : '';
      return '<tr data-call="' + esc(c.id) + '"><td class="p' + c.priority + '">P' + c.priority + '</td><td>' + esc(c.type) + '</td><td>' + esc(c.address) + '</td><td>' + esc(c.beat) + '</td><td>' + esc(c.state) + '</td><td>' + esc(c.assigned.join(', ')) + '</td><td>' + btn + '</td></tr>';
    }).join('');
  }

  // Map: beat outlines in an equirectangular projection fitted to the sector.
  const map = $('map');
  const beats = JSON.parse(map.dataset.beats || '[]');
  let box = null;
  function project(lon, lat) {
    const w = 1000, hgt = 600;
    const sx = w / (box.maxX - box.minX || 1), sy = hgt / (box.maxY - box.minY || 1), s = Math.min(sx, sy);
    return [(lon - box.minX) * s, hgt - (lat - box.minY) * s];
  }
  function renderMap() {
    if (!box) {
      box = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
      beats.forEach((b) => b.rings.forEach((r) => r.forEach(([x, y]) => { box.minX = Math.min(box.minX, x); box.maxX = Math.max(box.maxX, x); box.minY = Math.min(box.minY, y); box.maxY = Math.max(box.maxY, y); })));
      map.setAttribute('viewBox', '0 0 1000 600');
    }
    let svg = beats.map((b) => b.rings.map((r) => '<polygon class="beat" points="' + r.map(([x, y]) => project(x, y).join(',')).join(' ') + '"><title>Beat ' + esc(b.id) + '</title></polygon>').join('')).join('');
    for (const [unit, p] of Object.entries(state.positions)) {
      const [x, y] = project(p.lon, p.lat);
      const me = state.identity && unit === state.identity.unitId;
      svg += '<circle class="' + (me ? 'me' : 'other') + '" cx="' + x.toFixed(1) + '" cy="' + y.toFixed(1) + '" r="9"></circle><text x="' + (x + 12).toFixed(1) + '" y="' + (y + 5).toFixed(1) + '">' + esc(unit) + '</text>';
    }
    map.innerHTML = svg;
  }

  function renderAll() { renderHeader(); renderCalls(); renderMap(); }

  const es = new EventSource('/events');
  es.addEventListener('snapshot', (e) => { Object.assign(state, JSON.parse(e.data)); renderAll(); });
  es.addEventListener('board', (e) => { state.board = JSON.parse(e.data); renderHeader(); renderCalls(); });
  es.addEventListener('health', (e) => { state.health = JSON.parse(e.data); renderHeader(); });
  es.addEventListener('avl', (e) => { const p = JSON.parse(e.data); state.positions[p.unit] = p; renderMap(); });
  es.addEventListener('alert', (e) => { const a = JSON.parse(e.data); document.title = 'EMERGENCY ' + a.unit; });
  es.onerror = () => { $('link').textContent = 'screen disconnected from daemon'; };

  document.addEventListener('click', (e) => {
    const t = e.target;
    if (!(t instanceof HTMLElement)) return;
    if (t.dataset.status) post('/api/status', { status: t.dataset.status });
    if (t.dataset.accept) post('/api/calls/' + encodeURIComponent(t.dataset.accept) + '/accept');
  });
  $('theme').addEventListener('click', () => {
    const root = document.documentElement;
    const night = root.dataset.theme !== 'night';
    root.dataset.theme = night ? 'night' : 'day';
    $('theme').textContent = night ? 'Day' : 'Night';
  });
  setInterval(() => { $('clock').textContent = new Date().toLocaleTimeString([], { hour12: false }); }, 1000);
})();
