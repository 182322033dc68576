import { describe, expect, it } from 'vitest';
import { FirstScreenGate } from '../../../daemon/first-screen.js';
import { sleep } from '../../helpers/wait-for.js';

const screen = (req: Request): Response => (new URL(req.url).pathname === '/' ? new Response('<html>', { status: 200 }) : new Response('{}', { status: new URL(req.url).pathname === '/healthz' ? 200 : 404 }));
const get = (path: string, method = 'GET') => new Request(`http://127.0.0.1${path}`, { method });

describe('FirstScreenGate', () => {
  it('runs the work once, after the first page is answered, not on health checks, other paths or errors', async () => {
    let runs = 0;
    const gate = new FirstScreenGate(() => runs++, 60_000);
    const fetch = gate.wrap(screen);
    gate.arm();
    await fetch(get('/healthz'));
    await fetch(get('/nope'));
    await fetch(get('/', 'POST'));
    await sleep(5);
    expect(runs).toBe(0);
    const res = await fetch(get('/'));
    // The page goes out first: the work waits for the next turn of the event loop.
    expect(runs).toBe(0);
    expect(await res.text()).toBe('<html>');
    await sleep(5);
    expect(runs).toBe(1);
    await fetch(get('/'));
    await sleep(5);
    expect(runs).toBe(1);
    gate.cancel();
  });

  it('runs the work after the fallback when no page is asked for, and never after cancel', async () => {
    let runs = 0;
    const gate = new FirstScreenGate(() => runs++, 20);
    gate.arm();
    await sleep(60);
    expect(runs).toBe(1);

    let cancelled = 0;
    const stopped = new FirstScreenGate(() => cancelled++, 20);
    const fetch = stopped.wrap(screen);
    stopped.arm();
    stopped.cancel();
    await fetch(get('/'));
    await sleep(60);
    expect(cancelled).toBe(0);
  });

  it('refuses a fallback that is not a duration', () => {
    expect(() => new FirstScreenGate(() => undefined, Number.NaN)).toThrow(/fallbackMs/);
    expect(() => new FirstScreenGate(() => undefined, -1)).toThrow(/fallbackMs/);
  });
});
