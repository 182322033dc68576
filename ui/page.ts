// Server-rendered shell of the in-car screen. The first paint needs no script (the board as it
// is now); assets/screen.js then keeps it live from the event stream.
import { html } from 'hono/html';
import type { VehicleScreen } from './screen.js';

export function renderScreenPage(screen: VehicleScreen, csrf: string) {
  const id = screen.identity;
  const view = screen.board();
  const calls = Object.values(view.calls).filter((c) => c.state !== 'cleared' && c.state !== 'cancelled');
  const sector = screen.department.sectors[id.sector];
  const beats = (sector?.beats ?? []).map((b) => screen.department.beats[b]).filter((b) => b !== undefined);
  return html`<!doctype html>
<html lang="en" data-theme="day">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="mdt-csrf" content="${csrf}" />
    <title>MDT ${id.callSign}</title>
    <link rel="stylesheet" href="/assets/screen.css" />
  </head>
  <body>
    <header class="bar" role="banner">
      <div class="unit"><span class="label">Unit</span> <strong id="unit">${id.callSign}</strong> <span class="muted">sector ${id.sector} · beat ${id.homeBeat}</span></div>
      <div><span class="label">Status</span> <strong id="status" aria-live="polite">${view.units[id.unitId]?.status ?? 'unknown'}</strong></div>
      <div><span class="label">Link</span> <strong id="link" aria-live="polite">connecting</strong></div>
      <div><span class="label">GPS</span> <strong id="gps">…</strong></div>
      <div><span class="label">Modem</span> <strong id="modem">…</strong></div>
      <div id="clock" class="clock"></div>
      <button id="theme" type="button" aria-label="Switch day or night theme">Night</button>
    </header>
    <main>
      <section aria-labelledby="status-h">
        <h2 id="status-h">My status</h2>
        <div class="buttons" id="status-buttons">
          <button type="button" data-status="available">Available</button>
          <button type="button" data-status="en_route">En route</button>
          <button type="button" data-status="on_scene">On scene</button>
          <button type="button" data-status="transporting">Transporting</button>
          <button type="button" data-status="out_of_service">Out of service</button>
        </div>
      </section>
      <section aria-labelledby="queue-h">
        <h2 id="queue-h">Call queue <span id="call-count" class="muted">(${calls.length})</span></h2>
        <table class="calls">
          <thead><tr><th>Priority</th><th>Type</th><th>Address</th><th>Beat</th><th>State</th><th>Units</th><th></th></tr></thead>
          <tbody id="calls">
            ${calls.map(
              (c) => html`<tr data-call="${c.id}"><td class="p${c.priority}">P${c.priority}</td><td>${c.type}</td><td>${c.address}</td><td>${c.beat}</td><td>${c.state}</td><td>${c.assigned.join(', ')}</td><td></td></tr>`,
            )}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="map-h">
        <h2 id="map-h">Sector map</h2>
        <svg id="map" role="img" aria-label="Map of sector ${id.sector}" data-beats="${JSON.stringify(beats.map((b) => ({ id: b.id, rings: b.rings })))}"></svg>
      </section>
    </main>
    <script src="/assets/screen.js" defer></script>
  </body>
</html>`;
}
