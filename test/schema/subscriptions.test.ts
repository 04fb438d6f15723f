import type { FastifyInstance } from "fastify";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ComputeSavingsDocument, SavingsProgressDocument } from "../../src/generated/graphql.js";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import type { ObjectStore } from "../../src/services/storage/object-store.js";
import { startBrowseApp } from "../helpers/browse-app.js";
import { gql } from "../helpers/graphql.js";
import { seedLargeFolder } from "../helpers/large-folder.js";
import { type Stream, type StreamResult, transports } from "../helpers/subscriptions.js";

interface Progress {
  taskId: string;
  bucket: string;
  state: string;
  scannedObjects: number;
  objectCount: number;
  originalBytes: number;
  storedBytes: number;
  savingsPct: number;
}

/** The generated folder: 1,100 objects plus one in each of three sub-folders. */
const FIXTURE_OBJECTS = 1103;

/** Checks one job's events after the first: RUNNING (non-decreasing progress), then exactly one DONE at the end. */
function checkJob(events: Progress[], taskId: string) {
  expect(events.length).toBeGreaterThanOrEqual(1);
  const last = events[events.length - 1];
  expect(last.state).toBe("DONE");
  expect(events.slice(0, -1).every((e) => e.state === "RUNNING")).toBe(true);
  expect(events.every((e) => e.taskId === taskId)).toBe(true);
  for (let i = 1; i < events.length; i++) {
    expect(events[i].scannedObjects).toBeGreaterThanOrEqual(events[i - 1].scannedObjects);
  }
  expect(last.objectCount).toBe(FIXTURE_OBJECTS);
  return last;
}

/** A store whose listings of `fixture` wait while the gate is closed, so a test can hold a job RUNNING. */
function gatedStore(inner: ObjectStore) {
  let open: Promise<void> = Promise.resolve();
  let release = () => {};
  let arrived = () => {};
  let listed: Promise<void> = Promise.resolve();
  const store: ObjectStore = {
    ...inner,
    listObjects: async (input) => {
      if (input.bucket === "fixture") {
        arrived();
        await open;
      }
      return inner.listObjects(input);
    },
  };
  return {
    store,
    /** Closes the gate; resolves `listed` once a scan waits at it. */
    close() {
      open = new Promise((r) => (release = r));
      listed = new Promise((r) => (arrived = r));
    },
    waitForScan: () => listed,
    open: () => release(),
  };
}

const SAVINGS_FIELDS = "taskId bucket state scannedObjects objectCount originalBytes storedBytes savingsPct";

/** The same subscription written the ways a client may write it; each must deliver events. */
const SHAPES: { name: string; query: string; variables?: Record<string, unknown>; field: string }[] = [
  {
    name: "generated document ($bucket)",
    query: print(SavingsProgressDocument),
    variables: { bucket: "fixture" },
    field: "savingsProgress",
  },
  {
    name: "inline argument (README)",
    query: `subscription { savingsProgress(bucket: "fixture") { ${SAVINGS_FIELDS} } }`,
    field: "savingsProgress",
  },
  {
    name: "variable named $b",
    query: `subscription S($b: String!) { savingsProgress(bucket: $b) { ${SAVINGS_FIELDS} } }`,
    variables: { b: "fixture" },
    field: "savingsProgress",
  },
  {
    name: "alias + fragment + inline fragment + directive",
    query: `subscription Watch($which: String!, $yes: Boolean!) { p: savingsProgress(bucket: $which) { ...F ... on SavingsProgress @include(if: $yes) { savingsPct } } }
            fragment F on SavingsProgress { taskId bucket state scannedObjects objectCount originalBytes storedBytes }`,
    variables: { which: "fixture", yes: true },
    field: "p",
  },
];

describe("savings progress subscriptions", () => {
  let app: FastifyInstance;
  let base: string;
  let gate: ReturnType<typeof gatedStore>;
  beforeAll(async () => {
    const memory = createMemoryStore();
    await seedLargeFolder(memory);
    gate = gatedStore(memory);
    ({ app, base } = await startBrowseApp(gate.store));
  });
  afterAll(() => app.close());

  const progressOf = (result: StreamResult | undefined, field: string): Progress => {
    expect(result?.errors).toBeUndefined();
    return (result?.data as Record<string, Progress> | undefined)?.[field] as Progress;
  };

  for (const [transport, subscribe] of Object.entries(transports)) {
    for (const shape of SHAPES) {
      it(`${transport}, ${shape.name}: IDLE with the last result first, then the next job's progress and one DONE`, async () => {
        const stream: Stream = subscribe(base, shape.query, shape.variables);
        try {
          // Nothing runs: the first event says so, with the last cached result (or zeros before the first scan).
          const first = progressOf(await stream.next(), shape.field);
          expect(first.state).toBe("IDLE");
          expect(first.bucket ?? "fixture").toBe("fixture");
          expect([0, FIXTURE_OBJECTS]).toContain(first.objectCount);
          // Only now start the job: the subscriber is known to be listening (no sleep).
          const started = await gql(base, ComputeSavingsDocument, { bucket: "fixture" });
          const taskId = started.data?.computeSavings.job.taskId as string;
          expect(taskId).toBeTruthy();
          const events = (await stream.rest()).map((r) => progressOf(r, shape.field));
          // The job of this computeSavings, never an older cached DONE.
          checkJob(events, taskId);
        } finally {
          await stream.close();
        }
      });
    }

    it(`${transport}: a subscriber joining a running job first gets its RUNNING state`, async () => {
      gate.close();
      const started = await gql(base, ComputeSavingsDocument, { bucket: "fixture" });
      const taskId = started.data?.computeSavings.job.taskId as string;
      await gate.waitForScan();
      const stream = subscribe(base, `subscription { savingsProgress(bucket: "fixture") { ${SAVINGS_FIELDS} } }`);
      try {
        const first = progressOf(await stream.next(), "savingsProgress");
        expect(first).toMatchObject({ state: "RUNNING", taskId });
        gate.open();
        const events = (await stream.rest()).map((r) => progressOf(r, "savingsProgress"));
        checkJob(events, taskId);
      } finally {
        gate.open();
        await stream.close();
      }
    });

    for (const bucket of ["no-such-bucket", "glider-system"]) {
      it(`${transport}: ${bucket === "glider-system" ? "the hidden system bucket" : "an unknown bucket"} ends with bucket_not_found`, async () => {
        const stream = subscribe(base, `subscription { savingsProgress(bucket: "${bucket}") { state } }`);
        const results = await stream.rest();
        await stream.close();
        expect(results).toHaveLength(1);
        expect(results[0].data ?? null).toBeNull();
        expect(results[0].errors?.map((e) => e.extensions?.code)).toEqual(["bucket_not_found"]);
      });
    }
  }
});

describe("node(id) and nodes(ids) resolve every Node type whatever the selection", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await startBrowseApp(createMemoryStore()));
  });
  afterAll(() => app.close());

  it("answers a bucket id through fragments on other types, aliases, variables and literals alike", async () => {
    const found = await gql<{ bucket: { id: string } }, Record<string, never>>(
      base,
      `{ bucket(name: "fixture") { id } }`,
    );
    const bucketId = found.data?.bucket.id as string;
    const objects = await gql<
      { bucket: { objects: { edges: { node: { id: string; key: string } }[] } } },
      Record<string, never>
    >(base, `{ bucket(name: "fixture") { objects(first: 1) { edges { node { id key } } } } }`);
    const object = objects.data?.bucket.objects.edges[0]?.node;
    expect(object?.id).toBeTruthy();
    const result = await gql(
      base,
      `query Q($bucketId: ID!, $objectId: ID!, $skip: Boolean!) {
        a: node(id: $bucketId) { __typename id ... on Bucket { name } }
        b: node(id: $bucketId) { __typename id ... on StoredObject { key } }
        c: node(id: ${JSON.stringify(bucketId)}) { ... on Node { id } ...O }
        d: nodes(ids: [$bucketId, $objectId]) { __typename id ...O ... on Bucket @skip(if: $skip) { name } }
        e: node(id: $objectId) { __typename ... on Bucket { name } }
      }
      fragment O on StoredObject { key }`,
      { bucketId, objectId: object?.id, skip: false },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      a: { __typename: "Bucket", id: bucketId, name: "fixture" },
      b: { __typename: "Bucket", id: bucketId },
      c: { id: bucketId },
      d: [
        { __typename: "Bucket", id: bucketId, name: "fixture" },
        { __typename: "StoredObject", id: object?.id, key: object?.key },
      ],
      e: { __typename: "StoredObject" },
    });
  });
});
