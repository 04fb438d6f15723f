import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "../helpers/cluster.js";
import { createS3StoreFor } from "../helpers/s3rver.js";
import { expectedSavings, planSavingsBucket, writeSavingsBucket } from "../helpers/savings-bucket.js";

// Three Glider processes on one s3rver and one redis-server, requests spread round-robin (issue #19).

const ADMIN = { "x-admin-key": "cluster-admin-key-0123456789", "content-type": "application/json" };
const json = { "content-type": "application/json" };
const SLOT_TIMEOUT_MS = 3000;
const LEASE_MS = 2000;

interface Progress {
  taskId: string;
  state: string;
  scannedObjects: number;
  objectCount: number;
  originalBytes: number;
  storedBytes: number;
  savingsPct: number;
}

const PROGRESS_QUERY = `subscription ($bucket: String!) { savingsProgress(bucket: $bucket) {
  taskId state scannedObjects objectCount originalBytes storedBytes savingsPct } }`;

/** Follows `savingsProgress` over SSE on one instance; `onEvent` sees each event as it arrives. */
async function followProgress(base: string, bucket: string, onEvent: (event: Progress) => void = () => {}) {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({ query: PROGRESS_QUERY, variables: { bucket } }),
  });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const events: Progress[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = res.body?.getReader();
  while (reader) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const data = buffer
        .slice(0, end)
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("");
      buffer = buffer.slice(end + 2);
      if (!data) continue;
      const parsed = JSON.parse(data) as { data?: { savingsProgress: Progress }; errors?: unknown };
      if (parsed.errors) throw new Error(JSON.stringify(parsed.errors));
      if (parsed.data) {
        events.push(parsed.data.savingsProgress);
        onEvent(parsed.data.savingsProgress);
      }
    }
  }
  return events;
}

async function bucketRow(base: string, bucket: string) {
  const res = await fetch(`${base}/api/buckets`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { buckets: { name: string; pending: boolean; object_count: number | null }[] };
  return body.buckets.find((b) => b.name === bucket);
}

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = json) {
  const res = await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } };
}

async function issueToken(base: string, body: Record<string, unknown>): Promise<string> {
  const res = await post(base, "/api/admin/tokens/create", { label: "cluster", ...body }, ADMIN);
  expect(res.status).toBe(201);
  return res.body.secret as string;
}

async function listKeys(base: string, bucket: string): Promise<string[]> {
  const res = await fetch(`${base}/api/objects?bucket=${bucket}&limit=100`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { objects: { key: string }[] };
  return body.objects.map((o) => o.key);
}

/** A completed byte-mode transfer of `size` bytes, created through the given instances. */
async function completedTransfer(cluster: Cluster, secret: string, size: number, maxDownloads: number) {
  const auth = { authorization: `Bearer ${secret}` };
  const created = await post(
    cluster.next(),
    "/api/transfers/create",
    { size, max_downloads: maxDownloads },
    { ...json, ...auth },
  );
  expect(created.status).toBe(201);
  const id = (created.body.transfer as { transfer_id: string }).transfer_id;
  const payload = Buffer.alloc(size, 7);
  const upload = await fetch(`${cluster.next()}/api/transfers/id/${id}/payload/upload-bytes`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/octet-stream" },
    body: payload,
  });
  expect(upload.status).toBe(200);
  const complete = await fetch(`${cluster.next()}/api/transfers/id/${id}/upload/complete`, {
    method: "POST",
    headers: auth,
  });
  expect(complete.status).toBe(200);
  return id;
}

describe("three instances on one S3 and one Redis", () => {
  let cluster: Cluster;
  const plan = planSavingsBucket(800);
  let figures: Awaited<ReturnType<typeof expectedSavings>>;

  beforeAll(async () => {
    cluster = await startCluster({
      count: 3,
      env: {
        OBJECTS_RATE_LIMIT: "20",
        SEND_DOWNLOAD_SLOT_TIMEOUT_MS: String(SLOT_TIMEOUT_MS),
        SAVINGS_LEASE_MS: String(LEASE_MS),
        // One HEAD at a time: a scan of the generated bucket lasts seconds, long enough to kill its holder.
        SAVINGS_HEAD_CONCURRENCY: "1",
      },
    });
    const store = createS3StoreFor(cluster.s3);
    await store.createBucket("shared");
    await writeSavingsBucket(store, "savings", plan);
    figures = await expectedSavings(store, "savings", plan);
    // A bucket of its own for the takeover: never scanned before, so no savings index shortens its scan.
    await writeSavingsBucket(store, "takeover", plan);
    await store.close();
  });

  afterAll(async () => {
    for (const instance of cluster?.instances ?? []) {
      const problems = instance.problems().filter((line) => /"level":(50|60)/.test(line));
      if (problems.length > 0) console.error(`instance ${instance.url} logged errors:\n${problems.join("\n")}`);
    }
    await cluster?.stop();
  });

  it("reports Redis in /ready on every instance", async () => {
    for (const instance of cluster.instances) {
      const res = await fetch(`${instance.url}/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ready: true, checks: { storage: { ok: true }, redis: { ok: true } } });
    }
  });

  it("a session signed in on A works on B and C; sign-out on C ends it everywhere", async () => {
    const [a, b, c] = cluster.instances.map((i) => i.url);
    const login = await fetch(`${a}/api/auth/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        credentials: {
          access_key_id: cluster.s3.credentials.accessKeyId,
          secret_access_key: cluster.s3.credentials.secretAccessKey,
        },
      }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0];
    expect(cookie).toMatch(/^glider_session=./);
    const status = (base: string) => fetch(`${base}/api/auth/session/status`, { headers: { cookie } });
    expect((await status(b)).status).toBe(200);
    const buckets = await fetch(`${c}/api/buckets/`, { headers: { cookie } });
    expect(buckets.status).toBe(200);
    expect(((await buckets.json()) as { buckets: { name: string }[] }).buckets.map((x) => x.name)).toContain("shared");
    expect((await fetch(`${c}/api/auth/session`, { method: "DELETE", headers: { cookie } })).status).toBe(200);
    for (const base of [a, b, c]) expect((await status(base)).status).toBe(401);
  });

  it("an upload on A and a delete on A are seen by a listing on B at once (caches invalidated over pub/sub)", async () => {
    const [a, b, c] = cluster.instances.map((i) => i.url);
    // Warm B's and C's listing caches first.
    expect(await listKeys(b, "shared")).toEqual([]);
    expect(await listKeys(c, "shared")).toEqual([]);
    const up = await fetch(`${a}/api/upload?bucket=shared&key=notes.txt`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: "hello from A",
    });
    expect(up.status).toBe(200);
    // The invalidation travels as a pub/sub message: poll (bounded) rather than assume its arrival time.
    await expect.poll(() => listKeys(b, "shared"), { timeout: 5000 }).toEqual(["notes.txt"]);
    expect(await listKeys(c, "shared")).toEqual(["notes.txt"]);
    const del = await fetch(`${a}/api/objects/shared/notes.txt`, { method: "DELETE" });
    expect(del.status).toBe(200);
    await expect.poll(() => listKeys(b, "shared"), { timeout: 5000 }).toEqual([]);
    await expect.poll(() => listKeys(c, "shared"), { timeout: 5000 }).toEqual([]);
  });

  it("20 concurrent transfer creates over 3 instances against max_transfers 5: exactly 5 succeed", async () => {
    const secret = await issueToken(cluster.next(), { max_transfers: 5 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(cluster.next(), "/api/transfers/create", { size: 10 }, { ...json, authorization: `Bearer ${secret}` }),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(5);
    for (const r of results.filter((r) => r.status !== 201))
      expect(r.body.error).toMatchObject({ code: "token_exhausted" });
    const tokens = await fetch(`${cluster.next()}/api/admin/tokens/list`, { headers: ADMIN });
    const list = (await tokens.json()) as { tokens: { transfers_used: number; max_transfers: number }[] };
    expect(list.tokens.find((t) => t.max_transfers === 5)?.transfers_used).toBe(5);
  });

  it("max_bytes holds across instances: concurrent creates never exceed the byte quota", async () => {
    const secret = await issueToken(cluster.next(), { max_bytes: 1000 });
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        post(cluster.next(), "/api/transfers/create", { size: 300 }, { ...json, authorization: `Bearer ${secret}` }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(3);
  });

  it("max_downloads 1 and 20 parallel downloads across instances: exactly one completes", async () => {
    const secret = await issueToken(cluster.next(), {});
    const id = await completedTransfer(cluster, secret, 200_000, 1);
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${cluster.next()}/api/transfers/id/${id}/payload/download-bytes`);
        const body = Buffer.from(await res.arrayBuffer());
        return { status: res.status, bytes: body.length };
      }),
    );
    const complete = results.filter((r) => r.status === 200 && r.bytes === 200_000);
    expect(complete).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expect([409, 410]).toContain(r.status);
    // The serving instance books the completed download just after the last byte: another instance sees it then.
    await expect
      .poll(async () => (await fetch(`${cluster.next()}/api/transfers/id/${id}/status`)).status, { timeout: 5000 })
      .toBe(410);
  });

  it("the listing rate limit holds across instances", async () => {
    // 20/s per client in one-second windows; 90 listings at once over 3 instances. Per process, each instance would
    // let at least 20 through (60 in all); shared, at most two windows' worth (40) can pass.
    const results = await Promise.all(
      Array.from({ length: 90 }, () => cluster.fetch("/api/objects?bucket=shared").then((r) => r.status)),
    );
    const ok = results.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThanOrEqual(40);
    expect(results.filter((s) => s === 429).length).toBe(90 - ok);
  });

  it("an instance killed mid-download: its slot comes back after the timeout, and only one download completes", async () => {
    const secret = await issueToken(cluster.next(), {});
    const size = 32 * 1024 * 1024;
    const id = await completedTransfer(cluster, secret, size, 1);
    const victim = cluster.instances[0];
    const others = cluster.instances.slice(1);
    const first = await fetch(`${victim.url}/api/transfers/id/${id}/payload/download-bytes`);
    expect(first.status).toBe(200);
    const reader = first.body?.getReader();
    if (!reader) throw new Error("no body");
    const chunk = await reader.read();
    expect(chunk.value?.length).toBeGreaterThan(0);
    // The holder dies with most of the payload unsent: its slot stays claimed, renewed by no one.
    await victim.kill();
    await reader.cancel().catch(() => {});
    const retry = await fetch(`${others[0].url}/api/transfers/id/${id}/payload/download-bytes`);
    expect(retry.status).toBe(409);
    await retry.arrayBuffer();
    // Within the slot timeout (plus slack for a loaded machine) another instance hands the download out again.
    const started = Date.now();
    let bytes = 0;
    await expect
      .poll(
        async () => {
          const res = await fetch(`${others[1].url}/api/transfers/id/${id}/payload/download-bytes`);
          const body = Buffer.from(await res.arrayBuffer());
          if (res.status === 200) bytes = body.length;
          return res.status;
        },
        { timeout: SLOT_TIMEOUT_MS + 15_000, interval: 250 },
      )
      .toBe(200);
    // Renewed every third of the timeout while the victim lived: released no sooner than two thirds after its death.
    expect(Date.now() - started).toBeGreaterThanOrEqual(SLOT_TIMEOUT_MS / 3);
    expect(bytes).toBe(size);
    // That was the one allowed download.
    await expect
      .poll(async () => (await fetch(`${cluster.next()}/api/transfers/id/${id}/status`)).status, { timeout: 5000 })
      .toBe(410);
    // Three instances again for what follows.
    await cluster.add();
  }, 180_000);

  it("two computeSavings on two instances share one job; a subscriber on the third sees RUNNING then DONE", async () => {
    const [a, b, c] = cluster.live().map((i) => i.url);
    const [first, second] = await Promise.all([
      post(a, "/api/buckets/savings/compute-savings", {}),
      post(b, "/api/buckets/savings/compute-savings", {}),
    ]);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.task_id).toBe(first.body.task_id);
    // Every instance says a job runs, the one that scans and the two that do not.
    for (const base of [a, b, c]) expect((await bucketRow(base, "savings"))?.pending).toBe(true);
    const events = await followProgress(c, "savings");
    expect(events[0]).toMatchObject({ taskId: first.body.task_id, state: "RUNNING" });
    const last = events.at(-1);
    expect(last).toMatchObject({ taskId: first.body.task_id, state: "DONE", ...figures });
    for (const event of events.slice(0, -1)) expect(event.state).toBe("RUNNING");
    // The figures are cached where every instance reads them, and no job is pending anywhere.
    for (const base of [a, b, c]) {
      expect(await bucketRow(base, "savings")).toMatchObject({ pending: false, object_count: figures.objectCount });
    }
  }, 180_000);

  it("SIGKILL of the job's holder mid-scan: another instance takes it over and the subscriber sees it finish", async () => {
    const [holder, watcher] = cluster.live();
    const started = await post(holder.url, "/api/buckets/takeover/compute-savings", {});
    expect(started.status).toBe(202);
    let killed: Promise<void> | undefined;
    const events = await followProgress(watcher.url, "takeover", (event) => {
      // Mid-scan: some objects counted, most not.
      if (!killed && event.state === "RUNNING" && event.scannedObjects > 0) killed = holder.kill();
    });
    expect(killed).toBeDefined();
    const last = events.at(-1);
    expect(last).toMatchObject({
      taskId: started.body.task_id,
      state: "DONE",
      ...figures,
    });
    expect(holder.child.signalCode).toBe("SIGKILL");
  }, 180_000);

  it("Redis stopped and restarted: reads keep working, shared features answer 503 unavailable, then recover", async () => {
    const redis = cluster.redis;
    if (!redis) throw new Error("the cluster runs without Redis");
    const secret = await issueToken(cluster.next(), {});
    const auth = { ...json, authorization: `Bearer ${secret}` };
    const bases = cluster.live().map((i) => i.url);
    const up = await fetch(`${bases[0]}/api/upload?bucket=savings&key=extra.txt`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: "one more object",
    });
    expect(up.status).toBe(200);
    await expect.poll(() => listKeys(bases[1], "savings"), { timeout: 5000 }).toContain("extra.txt");
    await redis.stop();
    for (const base of bases) {
      // /ready reports Redis down, yet the instance stays ready: reads are served.
      await expect
        .poll(
          async () =>
            ((await (await fetch(`${base}/ready`)).json()) as { checks: { redis: { ok: boolean } } }).checks.redis.ok,
          {
            timeout: 10_000,
          },
        )
        .toBe(false);
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      expect(await listKeys(base, "savings")).toContain("extra.txt");
      const meta = await fetch(`${base}/api/objects/savings/extra.txt/metadata`);
      expect(meta.status).toBe(200);
      expect((await bucketRow(base, "savings"))?.name).toBe("savings");
      // Shared state: a typed 503, never a silent per-instance answer.
      const created = await post(base, "/api/transfers/create", { size: 10 }, auth);
      expect(created.status).toBe(503);
      expect(created.body.error).toMatchObject({ code: "unavailable" });
      const savings = await post(base, "/api/buckets/savings/compute-savings", {});
      expect(savings.status).toBe(503);
      expect(savings.body.error).toMatchObject({ code: "unavailable" });
    }
    await redis.restart();
    // Each instance reconnects by itself.
    for (const base of bases) {
      await expect
        .poll(async () => (await post(base, "/api/transfers/create", { size: 10 }, auth)).status, { timeout: 15_000 })
        .toBe(201);
      const ready = (await (await fetch(`${base}/ready`)).json()) as { checks: { redis: { ok: boolean } } };
      expect(ready.checks.redis.ok).toBe(true);
    }
    // And the invalidation channel works again: a delete on one instance is seen by a listing on another.
    const del = await fetch(`${bases[0]}/api/objects/savings/extra.txt`, { method: "DELETE" });
    expect(del.status).toBe(200);
    await expect.poll(() => listKeys(bases[1], "savings"), { timeout: 5000 }).not.toContain("extra.txt");
  });
});
