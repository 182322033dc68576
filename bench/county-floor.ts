// The raw fleet floor of notes/sync-stack.md §8, measured again in the same run as the county
// bench so the two can be read side by side: 500 plain MQTT.js clients in this process, 30
// sectors (about 17 cars each); every car subscribes to its sector's positions and changes and
// publishes its position at 1 Hz (QoS 0, spread over the second); 20 times a second fleet-wide
// a random car publishes a 200-byte change (QoS 1) to its sector. Latency is publish → delivery
// at each sector peer. No Automerge, no auth, no ACL: the broker and the client process alone.
// `node dist/bench/county-floor.js --aedes-broker` is the bare aedes child this uses.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { Aedes } from 'aedes';
import { killGroup, median, quantile, sleep, startMosquitto, ProcSampler } from './county-procs.js';

export interface FloorResult {
  broker: 'aedes' | 'mosquitto';
  clients: number;
  seconds: number;
  positionDeliveriesPerS: number;
  changeMedianMs: number;
  changeP99Ms: number;
  changeDeliveries: number;
  brokerCpu: number;
  brokerRssMB: number;
}

const now = (): number => performance.timeOrigin + performance.now();

async function bareAedes(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--aedes-broker'], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (c) => reject(new Error(`bare aedes exited ${c}`)));
  });
  return { url: `mqtt://127.0.0.1:${port}`, pid: child.pid!, stop: () => killGroup(child) };
}

export async function runFloor(broker: 'aedes' | 'mosquitto', dir: string, opts: { clients?: number; seconds?: number } = {}): Promise<FloorResult> {
  const n = opts.clients ?? 500;
  const seconds = opts.seconds ?? 10;
  const sectors = 30;
  let url: string;
  let pid: number;
  let stop: () => Promise<void>;
  if (broker === 'aedes') {
    const b = await bareAedes();
    ({ url, pid, stop } = b);
  } else {
    const m = await startMosquitto(dir, { precinct: 'X', sectors: [], cars: [], secret: '', precinctSecret: '', bare: true });
    url = m.url;
    pid = m.child().pid!;
    stop = m.stop;
  }
  const sampler = new ProcSampler(() => pid, 500).start();
  const clients: MqttClient[] = [];
  let posDeliveries = 0;
  let measuring = false;
  const lat: number[] = [];
  try {
    const connectOne = async (i: number) => {
      const s = i % sectors;
      const c = mqtt.connect(url, { clientId: `floor-${i}`, protocolVersion: 4, reconnectPeriod: 0, queueQoSZero: false, connectTimeout: 30_000 });
      c.on('message', (topic, payload) => {
        if (!measuring) return;
        if (topic.endsWith('/chg')) lat.push(now() - payload.readDoubleLE(0));
        else posDeliveries += 1;
      });
      clients[i] = c;
      await new Promise<void>((resolve, reject) => {
        c.once('connect', () => resolve());
        c.once('error', reject);
        c.once('close', () => reject(new Error(`floor client ${i} closed before connect`)));
      });
      await c.subscribeAsync([`floor/s${s}/pos/+`, `floor/s${s}/chg`], { qos: 1 });
    };
    // In batches of 50, as the notes' floor did not measure connection storms.
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => connectOne(i + k)));
    const timers: NodeJS.Timeout[] = [];
    clients.forEach((c, i) => {
      const pos = Buffer.alloc(90, 1);
      timers.push(
        setTimeout(() => {
          timers.push(setInterval(() => c.publish(`floor/s${i % sectors}/pos/${i}`, pos, { qos: 0 }), 1000));
        }, (i * 1000) / n),
      );
    });
    await sleep(2000); // settle: every car publishing
    measuring = true;
    const t0 = performance.now();
    const change = Buffer.alloc(200, 2);
    const changeTimer = setInterval(() => {
      const i = Math.floor(Math.random() * n);
      change.writeDoubleLE(now(), 0);
      clients[i]!.publish(`floor/s${i % sectors}/chg`, Buffer.from(change), { qos: 1 });
    }, 50);
    await sleep(seconds * 1000);
    measuring = false;
    const t1 = performance.now();
    clearInterval(changeTimer);
    for (const t of timers) clearInterval(t);
    const w = sampler.window(t0, t1);
    return {
      broker,
      clients: n,
      seconds,
      positionDeliveriesPerS: posDeliveries / ((t1 - t0) / 1000),
      changeMedianMs: median(lat),
      changeP99Ms: quantile(lat, 0.99),
      changeDeliveries: lat.length,
      brokerCpu: w.cpu,
      brokerRssMB: w.rssMax / 2 ** 20,
    };
  } finally {
    sampler.stop();
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--aedes-broker') {
  const aedes = await Aedes.createBroker({ drainTimeout: 20_000 });
  const server = createServer(aedes.handle);
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`${typeof a === 'object' && a ? a.port : 0}\n`);
  });
}
