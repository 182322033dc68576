// Headless Debian Chromium through playwright-core. The flags keep it from reaching for the
// network this machine does not have (it stalls on refused connections otherwise).
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.MDT_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
