import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import puppeteer, { type Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { DEV_LOCAL_CREDENTIALS } from "../../../src/config.js";
import { listen, testConfig } from "../../helpers/app.js";

/** Debian's chromium (`.ci/run` installs it); CHROMIUM_PATH overrides. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A small SPA of our own, served by Glider from UI_DIR, that signs in and lists buckets as the Commander does. */
const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>glider-test-ui</title></head>
<body><div id="app">loading</div>
<script>
window.signInAndList = async (credentials) => {
  const login = await fetch("/api/auth/session", {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ credentials }),
  });
  const status = await fetch("/api/auth/session/status", { credentials: "include" });
  const buckets = await fetch("/api/buckets/", { credentials: "include" });
  const body = await buckets.json();
  document.getElementById("app").textContent = body.buckets.map((b) => b.name).join(",");
  return {
    login: login.status,
    status: status.status,
    buckets: buckets.status,
    names: body.buckets.map((b) => b.name),
    scriptSeesCookie: document.cookie.includes("glider_session"),
  };
};
window.signOut = async () => {
  await fetch("/api/auth/session", { method: "DELETE", credentials: "include" });
  return (await fetch("/api/buckets/", { credentials: "include" })).status;
};
document.getElementById("app").textContent = "ready:" + location.pathname;
</script></body></html>`;

describe("the session cookie flow in a real browser (headless Chromium), UI served from UI_DIR", () => {
  let uiDir: string;
  let profile: string;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `chromium must be installed at ${CHROMIUM} (apt-get install chromium)`).toBe(true);
    uiDir = await mkdtemp(join(tmpdir(), "glider-ui-"));
    profile = await mkdtemp(join(tmpdir(), "glider-chromium-"));
    await writeFile(join(uiDir, "index.html"), INDEX_HTML);
    await writeFile(join(uiDir, "app.js"), "console.log('asset');\n");
    app = await buildApp(testConfig({ STORAGE: "memory", UI_DIR: uiDir, REQUIRE_SESSION: "true" }), {
      logger: pino({ level: "silent" }),
    });
    await app.services.store.createBucket("browser-bucket");
    base = await listen(app);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      userDataDir: profile,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await rm(uiDir, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  });

  it("signs in with credentials: include, keeps the HttpOnly cookie from scripts, lists buckets, signs out", async () => {
    const page = await browser.newPage();
    // A client-side route is answered with index.html.
    const response = await page.goto(`${base}/buckets/browser-bucket/objects`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe("glider-test-ui");
    expect(await page.$eval("#app", (e) => e.textContent)).toBe("ready:/buckets/browser-bucket/objects");

    const result = await page.evaluate(
      (c) => (window as unknown as { signInAndList(c: unknown): Promise<unknown> }).signInAndList(c),
      { access_key_id: DEV_LOCAL_CREDENTIALS.accessKeyId, secret_access_key: DEV_LOCAL_CREDENTIALS.secretAccessKey },
    );
    expect(result).toEqual({
      login: 200,
      status: 200,
      buckets: 200,
      names: ["browser-bucket"],
      scriptSeesCookie: false,
    });
    const cookies = await browser.cookies();
    expect(cookies.find((c) => c.name === "glider_session")).toMatchObject({ httpOnly: true, sameSite: "Lax" });

    const afterSignOut = await page.evaluate(() => (window as unknown as { signOut(): Promise<number> }).signOut());
    expect(afterSignOut).toBe(401);
    await page.close();
  });

  it("serves files as they are and leaves /api, /health and /metrics to the server", async () => {
    const asset = await fetch(`${base}/app.js`);
    expect(asset.status).toBe(200);
    expect(await asset.text()).toContain("asset");
    const unknown = await fetch(`${base}/api/no-such-route`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect((await fetch(`${base}/health`)).headers.get("content-type")).toContain("application/json");
    expect((await fetch(`${base}/metrics`)).headers.get("content-type")).toContain("text/plain");
    const post = await fetch(`${base}/some/client/route`, { method: "POST" });
    expect(post.status).toBe(404);
  });
});
