import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
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
// As the Commander's download: upload a version, ask for a presigned link, follow it with <a download>.
window.uploadAndDownload = async (files) => {
  const links = [];
  for (const f of files) {
    const form = new FormData();
    form.append("bucket", "browser-bucket");
    form.append("prefix", "releases/");
    const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
    form.append("files", new Blob([bytes]), f.name);
    const up = await fetch("/api/upload/", { method: "POST", credentials: "include", body: form });
    const body = await up.json();
    links.push({ status: up.status, operation: body.results[0].operation });
  }
  const last = files[files.length - 1].name;
  const presigned = await fetch("/api/download/presigned-url", {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ bucket: "browser-bucket", key: "releases/" + last, expires_in: 3600, with_rehydration: true }),
  });
  const link = await presigned.json();
  const a = document.createElement("a");
  a.href = link.download_url;
  a.download = last;
  document.body.appendChild(a);
  a.click();
  a.remove();
  return { uploads: links, presigned: presigned.status };
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

  it("answers the Commander's file route (encoded slash, a file extension) with index.html on reload", async () => {
    const page = await browser.newPage();
    const route = "/b/browser-bucket/o/releases%2Fapp-1.1.zip?prefix=releases%2F";
    const response = await page.goto(`${base}${route}`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(await page.$eval("#app", (e) => e.textContent)).toBe("ready:/b/browser-bucket/o/releases%2Fapp-1.1.zip");
    await page.close();
  });

  it("downloads a delta through its presigned link as the UI does (<a download>): the saved file's sha256 matches", async () => {
    const downloads = await mkdtemp(join(tmpdir(), "glider-downloads-"));
    const page = await browser.newPage();
    try {
      const cdp = await page.createCDPSession();
      await cdp.send("Browser.setDownloadBehavior", {
        behavior: "allow",
        downloadPath: downloads,
        eventsEnabled: true,
      });
      const done = new Promise<string>((resolveDone, reject) => {
        cdp.on("Browser.downloadProgress", (e: { state: string; guid: string }) => {
          if (e.state === "completed") resolveDone(e.guid);
          if (e.state === "canceled") reject(new Error("download canceled"));
        });
      });
      await page.goto(`${base}/`, { waitUntil: "load" });
      await page.evaluate(
        (c) => (window as unknown as { signInAndList(c: unknown): Promise<unknown> }).signInAndList(c),
        { access_key_id: DEV_LOCAL_CREDENTIALS.accessKeyId, secret_access_key: DEV_LOCAL_CREDENTIALS.secretAccessKey },
      );
      // Two similar versions, so the second is stored as a delta and the download rebuilds it.
      const v1 = randomBytes(256 * 1024);
      const v2 = Buffer.concat([v1.subarray(0, 100_000), randomBytes(1000), v1.subarray(100_000)]);
      const files = [
        { name: "app-1.1.zip", base64: v1.toString("base64") },
        { name: "app-1.2.zip", base64: v2.toString("base64") },
      ];
      const result = await page.evaluate(
        (f) => (window as unknown as { uploadAndDownload(f: unknown): Promise<unknown> }).uploadAndDownload(f),
        files,
      );
      expect(result).toEqual({
        uploads: [
          { status: 200, operation: "create_reference" },
          { status: 200, operation: "create_delta" },
        ],
        presigned: 200,
      });
      await done;
      const saved = (await readdir(downloads)).filter((f) => !f.endsWith(".crdownload"));
      expect(saved).toEqual(["app-1.2.zip"]);
      const digest = createHash("sha256")
        .update(await readFile(join(downloads, saved[0])))
        .digest("hex");
      expect(digest).toBe(createHash("sha256").update(v2).digest("hex"));
    } finally {
      await page.close();
      await rm(downloads, { recursive: true, force: true });
    }
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
