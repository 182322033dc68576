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

/** Tells systemd we are ready (Type=notify). Node has no datagram socket API, so use the tool. */
export function notifySystemd(state: string, log: Logger): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', [state], (err) => {
    if (err) log.warn({ err: err.message, state }, 'systemd-notify failed');
  });
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
      notifySystemd('--stopping', log);
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
