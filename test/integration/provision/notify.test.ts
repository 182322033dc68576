// The sd_notify protocol as the units use it (Type=notify, WatchdogSec=): the built daemon, the
// real systemd-notify, and a datagram socket standing in for systemd (Python, since Node has no
// unix datagram sockets). It closes the barrier fd systemd-notify passes, as systemd does, so
// systemd-notify's wait for the manager (sd_notify_barrier) completes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/free-port.js';
import { waitFor } from '../../helpers/wait-for.js';
import { startDaemon, type Daemon } from './cli.js';

const RECEIVER = `
import socket, os, sys, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, typ, data in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(msg.decode().replace("\\n", " ").strip(), flush=True)
`;

describe('systemd notification and watchdog', () => {
  let dir: string;
  let receiver: ChildProcess;
  let received = '';
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdt-notify-'));
    await writeFile(join(dir, 'receiver.py'), RECEIVER);
    receiver = spawn('/usr/bin/python3', [join(dir, 'receiver.py'), join(dir, 'notify.sock')], { stdio: ['ignore', 'pipe', 'inherit'] });
    receiver.stdout!.on('data', (d: Buffer) => (received += d.toString()));
    await waitFor(() => received.includes('listening'), { timeoutMs: 10_000, what: 'the notify socket' });
  });
  afterAll(async () => {
    await daemon?.stop();
    receiver?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('sends READY, then WATCHDOG at half of WatchdogSec, then STOPPING', async () => {
    const cfg = join(dir, 'vehicle.json');
    await writeFile(
      cfg,
      JSON.stringify({
        vehicle: { id: 'V1001', unit: 'NB11', homeBeat: 'B1', sector: 'B', precinct: 'N' },
        // No broker answers: the car is offline-first and must be ready anyway.
        brokers: [{ url: `mqtt://127.0.0.1:${await freePort()}` }],
        credentials: { password: 'a-long-enough-test-secret' },
        ui: { port: 0 },
        stateDir: join(dir, 'state'),
        hardware: { gps: { kind: 'sim' }, modem: { kind: 'none' }, inputs: { kind: 'none' } },
      }),
    );
    daemon = startDaemon(['vehicle', '--config', cfg], { NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: '1000000' });
    await waitFor(() => received.includes('READY=1'), { timeoutMs: 20_000, what: `READY=1\n${daemon?.output()}` });
    const started = Date.now();
    await waitFor(() => (received.match(/^WATCHDOG=1$/gm) ?? []).length >= 3, { timeoutMs: 10_000, what: 'three watchdog pings' });
    // Every 500 ms (half of 1 s): three pings take about 1.5 s, not 3 s or 0.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(received.indexOf('READY=1')).toBeLessThan(received.indexOf('WATCHDOG=1'));

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    await waitFor(() => /^STOPPING=1$/m.test(received), { timeoutMs: 5000, what: 'STOPPING=1' });
  });
});
