import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Debian's chromium (`.ci/run` installs it); CHROMIUM_PATH points elsewhere. No browser is ever downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Launches headless Chromium with a fresh profile and no background traffic; fails loudly when it is missing. */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  const profile = await mkdtemp(join(tmpdir(), "glider-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Every URL a page requests (HTTP and WebSocket), for the "nothing leaves the origin" assertions. */
export async function recordRequests(page: Page): Promise<string[]> {
  const urls: string[] = [];
  page.on("request", (request) => {
    urls.push(request.url());
  });
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketCreated", (event) => {
    urls.push(event.url);
  });
  return urls;
}

/** URLs that went to another host than `base` (data: and blob: stay in the page). */
export function foreignRequests(urls: readonly string[], base: string): string[] {
  const { host } = new URL(base);
  return urls.filter((url) => {
    const parsed = new URL(url);
    if (parsed.protocol === "data:") return false;
    if (parsed.protocol === "blob:") return new URL(parsed.pathname).host !== host;
    return parsed.host !== host;
  });
}
