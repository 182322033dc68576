// The emergency button, on its own: it shares no code with screen.js, so a broken render, a lost
// SSE stream or a locked screen cannot stop it. Press and hold for 1.5 s (a brush or a tap does
// nothing); the request is retried until the daemon confirms. The car's wired emergency input
// reaches the daemon without any screen at all (daemon/vehicle.ts).
'use strict';
(function () {
  const HOLD_MS = 1500;
  const btn = document.getElementById('emergency');
  const meta = document.querySelector('meta[name="mdt-csrf"]');
  if (!btn || !meta) return;
  const csrf = meta.content;
  let timer = null;

  function send(attempt) {
    btn.dataset.state = 'sending';
    fetch('/api/emergency', { method: 'POST', headers: { 'content-type': 'application/json', 'x-mdt-csrf': csrf }, body: '{}' })
      .then((res) => {
        if (!res.ok) throw new Error(String(res.status));
        btn.dataset.state = 'sent';
        btn.querySelector('.em-text').textContent = 'EMERGENCY SENT';
      })
      .catch(() => {
        btn.dataset.state = 'retrying';
        btn.querySelector('.em-text').textContent = 'RETRYING…';
        setTimeout(() => send(attempt + 1), Math.min(5000, 500 * (attempt + 1)));
      });
  }
  function start(e) {
    if (timer || btn.dataset.state === 'sending') return;
    if (e && e.preventDefault) e.preventDefault();
    btn.dataset.state = 'holding';
    timer = setTimeout(() => { timer = null; send(0); }, HOLD_MS);
  }
  function cancel() {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    btn.dataset.state = '';
  }
  btn.addEventListener('pointerdown', start);
  btn.addEventListener('pointerup', cancel);
  btn.addEventListener('pointerleave', cancel);
  btn.addEventListener('pointercancel', cancel);
  btn.addEventListener('contextmenu', (e) => e.preventDefault());
  // Keyboard: hold Space or Enter (auto-repeat keydowns are ignored while the timer runs).
  btn.addEventListener('keydown', (e) => { if (e.key === ' ' || e.key === 'Enter') { e.preventDefault(); start(); } });
  btn.addEventListener('keyup', (e) => { if (e.key === ' ' || e.key === 'Enter') cancel(); });
  btn.addEventListener('blur', cancel);
})();
