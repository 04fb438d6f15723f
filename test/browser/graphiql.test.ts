import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoBucket } from "../../src/services/deltaglider/demo.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { buildTestApp, listen } from "../helpers/app.js";
import { foreignRequests, launchBrowser, recordRequests } from "../helpers/browser.js";
import { readmeOperations } from "../helpers/readme.js";

const ADMIN_KEY = "browser-admin-key-0123456789";

/** Replaces the query editor's text as a user would: focus, select all, type (inserted as one text input). */
async function typeQuery(page: Page, query: string) {
  const editorText = () =>
    page.$eval(".graphiql-query-editor .monaco-editor .view-lines", (el) => (el as HTMLElement).innerText.trim());
  await page.click(".graphiql-query-editor .monaco-editor");
  // Select-all + delete until the editor is really empty: Monaco may take the focus after the first keys arrive.
  await page.waitForFunction(() => document.activeElement?.closest(".graphiql-query-editor") !== null);
  for (let attempt = 0; attempt < 5 && (await editorText()) !== ""; attempt++) {
    await page.keyboard.down("Control");
    await page.keyboard.press("KeyA");
    await page.keyboard.up("Control");
    await page.keyboard.press("Backspace");
  }
  expect(await editorText()).toBe("");
  // One line: typed newlines would get Monaco's auto-indent and auto-closed brackets.
  const line = query.replace(/\s+/g, " ").trim();
  await page.keyboard.sendCharacter(line);
  const start = line.slice(0, 20);
  await page.waitForFunction(
    (s) =>
      (document.querySelector(".graphiql-query-editor .monaco-editor .view-lines") as HTMLElement | null)?.innerText
        .replace(/\s+/g, " ")
        .includes(s),
    {},
    start,
  );
  // GraphiQL picks the operation to run from its tab state, updated after the edit: running before it has caught
  // up sends the previous operation's name ("Cannot infer operation").
  const name = /^(?:query|mutation|subscription)\s+(\w+)/.exec(line)?.[1];
  await page.waitForFunction(
    (expected) => {
      const state = JSON.parse(localStorage.getItem("graphiql:tabState") ?? "{}");
      const tab = state.tabs?.[state.activeTabIndex ?? 0];
      return tab?.operationName === expected || (expected === null && !tab?.operationName);
    },
    {},
    name ?? null,
  );
}

/** What the response pane shows (Monaco renders the visible lines). */
function responseText(page: Page): Promise<string> {
  return page.$eval(".graphiql-response", (el) => (el as HTMLElement).innerText);
}

describe("GraphiQL in a real browser (Chromium, headless)", () => {
  let app: FastifyInstance;
  let base: string;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let foreign: Server;
  let foreignBase: string;
  beforeAll(async () => {
    app = await buildTestApp({ SEND_ADMIN_API_KEY: ADMIN_KEY }, { store: createMemoryStore() });
    await seedDemoBucket(app.services.store, app.services.deltaglider, pino({ level: "silent" }));
    base = await listen(app);
    // Another origin on the same host (same site, so the browser does send SameSite=Strict cookies to Glider):
    // only CORS and the origin check stand between its scripts and the admin's answers.
    foreign = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>elsewhere</title>");
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    foreignBase = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    foreign?.closeAllConnections();
    await new Promise((resolve) => foreign?.close(resolve));
    await app?.close();
  });

  it("loads offline from this server, runs the README folder query, follows the README subscription to DONE", async () => {
    const operations = readmeOperations();
    const page = await browser.browser.newPage();
    const urls = await recordRequests(page);
    const folderAnswers: unknown[] = [];
    page.on("response", async (response) => {
      if (response.request().method() !== "POST" || !response.url().endsWith("/graphql")) return;
      const body = response.request().postData() ?? "";
      if (body.includes("Folder")) folderAnswers.push(await response.json());
    });
    await page.goto(`${base}/graphql`, { waitUntil: "load" });
    await page.waitForSelector(".graphiql-query-editor .monaco-editor");
    expect(await page.evaluate(() => typeof (window as { YogaGraphiQL?: unknown }).YogaGraphiQL)).toBe("object");

    await typeQuery(page, operations.Folder.source);
    await page.click(".graphiql-execute-button");
    await page.waitForFunction(() =>
      document.querySelector(".graphiql-response")?.textContent?.includes("commonPrefixes"),
    );
    expect(folderAnswers).toHaveLength(1);
    const folder = folderAnswers[0] as { data: { bucket: { objects: { edges: { node: { key: string } }[] } } } };
    expect(folder.data.bucket.objects.edges.map((e) => e.node.key)).toContain("releases/viewer/viewer-1.3.0.zip");

    // The README subscription (over graphql-ws): IDLE at once, then a computeSavings elsewhere, then DONE.
    await typeQuery(page, operations.Savings.source);
    await page.click(".graphiql-execute-button");
    await page.waitForFunction(() => document.querySelector(".graphiql-response")?.textContent?.includes('"IDLE"'));
    const started = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `mutation { computeSavings(input: { bucket: "demo" }) { job { taskId } } }` }),
    });
    expect((await started.json()).data.computeSavings.job.taskId).toBeTruthy();
    await page.waitForFunction(() => document.querySelector(".graphiql-response")?.textContent?.includes('"DONE"'));
    expect(await responseText(page)).toMatch(/"savingsPct"/);

    // Everything came from this server: no CDN, no favicon host, no other WebSocket.
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.some((url) => url.startsWith("ws://"))).toBe(true);
    expect(foreignRequests(urls, base)).toEqual([]);
    await page.close();
  });

  it("a page from another origin cannot read an admin field with the admin's cookie", async () => {
    const page = await browser.browser.newPage();
    // The admin signs in on Glider's own origin: the key becomes the HttpOnly, SameSite=Strict cookie.
    await page.goto(`${base}/health`);
    const own = await page.evaluate(async (key) => {
      const session = await fetch("/api/admin/session", { method: "POST", headers: { "x-admin-key": key } });
      const stats = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ stats { tokens } }" }),
      });
      return {
        session: session.status,
        cookieVisible: document.cookie.includes("glider_admin_key"),
        stats: await stats.json(),
      };
    }, ADMIN_KEY);
    // Positive control: on its own origin the cookie authenticates (and scripts cannot read it).
    expect(own.session).toBe(204);
    expect(own.cookieVisible).toBe(false);
    expect(own.stats).toEqual({ data: { stats: { tokens: 0 } } });

    await page.goto(`${foreignBase}/`);
    const attempts = await page.evaluate(async (glider) => {
      const read = async (request: () => Promise<Response>) => {
        try {
          const res = await request();
          return `read ${res.status}: ${await res.text()}`;
        } catch (error) {
          return `blocked: ${(error as Error).name}`;
        }
      };
      const query = "{ stats { tokens } }";
      const post = await read(() =>
        fetch(`${glider}/graphql`, {
          method: "POST",
          credentials: "include",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query }),
        }),
      );
      const get = await read(() =>
        fetch(`${glider}/graphql?query=${encodeURIComponent(query)}`, { credentials: "include" }),
      );
      const rest = await read(() => fetch(`${glider}/api/admin/stats/overview`, { credentials: "include" }));
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${glider.replace("http", "ws")}/graphql`, "graphql-transport-ws");
        ws.onopen = () => resolve("open");
        ws.onerror = () => resolve("refused");
      });
      return { post, get, rest, socket };
    }, base);
    expect(attempts).toEqual({
      post: "blocked: TypeError",
      get: "blocked: TypeError",
      rest: "blocked: TypeError",
      socket: "refused",
    });
    await page.close();
  });
});
