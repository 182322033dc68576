// Process lifecycle shared by every long-running program: ordered shutdown on SIGINT/SIGTERM,
// a fatal log line (flushed synchronously) for anything uncaught, then exit so systemd restarts us.
import { execFile } from 'node:child_process';
import type { Logger } from './log.js';

export function installCrashHandlers(log: Logger): void {
  const fatal = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: exiting so the supervisor restarts the daemon`);
    log.flush();
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
}

/**
 * Tells systemd our state (Type=notify). Node has no datagram socket API, so use the tool; since
 * systemd 246 it waits until the manager has processed the message (sd_notify_barrier), which
 * closes the race its man page warns of (a short-lived sender's message attributed to no unit).
 * READY also starts the watchdog when the unit sets WatchdogSec=.
 */
export function notifySystemd(state: string, log: Logger): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', [state], (err) => {
    if (err) log.warn({ err: err.message, state }, 'systemd-notify failed');
  });
  if (state === '--ready') startWatchdog(log);
}

let watchdog: NodeJS.Timeout | undefined;

/**
 * Pings WATCHDOG=1 at half of WatchdogSec (sd_watchdog_enabled(3)). The ping comes from a timer,
 * so it stops when the event loop is stuck: a hung daemon is killed and restarted, a busy one is not.
 */
function startWatchdog(log: Logger): void {
  const usec = Number(process.env.WATCHDOG_USEC);
  const pid = process.env.WATCHDOG_PID;
  if (watchdog || !Number.isFinite(usec) || usec <= 0 || (pid !== undefined && Number(pid) !== process.pid)) return;
  const everyMs = Math.max(500, Math.floor(usec / 1000 / 2));
  watchdog = setInterval(() => {
    execFile('systemd-notify', ['WATCHDOG=1'], (err) => {
      if (err) log.warn({ err: err.message }, 'systemd watchdog ping failed');
    });
  }, everyMs);
  watchdog.unref();
  log.info({ everyMs }, 'systemd watchdog enabled');
}

/** Resolves after the first SIGINT/SIGTERM has run `stop`; a second signal exits at once. */
export function stopOnSignal(stop: () => Promise<void>, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      // systemd-notify has no --stopping before v253; the assignment works everywhere.
      notifySystemd('STOPPING=1', log);
      stop()
        .catch((err: unknown) => log.error({ err }, 'error while stopping'))
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          log.info({}, 'stopped');
          resolve();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
