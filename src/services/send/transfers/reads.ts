import { mapWithConcurrency } from "../../concurrency.js";
import { GliderError } from "../../errors.js";
import type { ActionRecord, EventRecord } from "../audit/types.js";
import { MAX_EVENTS } from "../limits.js";
import type { TokenState } from "../tokens/types.js";
import type { TransfersService } from "./contract.js";
import type { TransferCore } from "./core.js";
import { assertTransferId, isTransferId, transferKeys as keys } from "./ids.js";
import { effectiveStatus, refuseUnavailable, STATUSES, TOKEN_STATES } from "./rules.js";
import type { TransferRecord, TransferStatus } from "./types.js";

const READ_CONCURRENCY = 16;

type Reads = Pick<
  TransfersService,
  "status" | "view" | "addEvent" | "listEvents" | "listActions" | "auditTrail" | "list" | "stats"
>;

/** Reading transfers: status, client events, the audit views, admin listings and stats (tokens included). */
export function createReads(core: TransferCore): Reads {
  const { system, audit, tokens, now, load, act, toView } = core;
  /** Read-your-writes within a process: a status read right after a download ends sees it counted. */
  const settledFor = (id: string) => core.inFlight.settled(id);

  async function readRecords(): Promise<TransferRecord[]> {
    const ids = (await system.listFolders("transfers/"))
      .map((folder) => folder.slice("transfers/".length, -1))
      .filter(isTransferId);
    const records = await mapWithConcurrency(ids, READ_CONCURRENCY, (id) =>
      system.readJson<TransferRecord>(keys.record(id)),
    );
    return records.filter((r): r is TransferRecord => r !== undefined);
  }

  /** The record under the status route's rules: unknown, deleted, expired and exhausted transfers are refused. */
  async function readable(id: string): Promise<TransferRecord> {
    assertTransferId(id);
    await settledFor(id);
    const record = await load(id);
    refuseUnavailable(record, now());
    return record;
  }

  return {
    async status(id) {
      const record = await readable(id);
      await act(record, "transfer.status_read", "public");
      return toView(record);
    },

    async view(id) {
      return toView(await readable(id));
    },

    async addEvent(id, input) {
      const record = await load(id);
      const status = effectiveStatus(record, now());
      if (status === "deleted" || status === "expired") refuseUnavailable(record, now());
      return system.withLock(`events:${id}`, async () => {
        if ((await audit.count(id, "event")) >= MAX_EVENTS) {
          throw new GliderError("conflict", `a transfer holds at most ${MAX_EVENTS} events`, {
            max_events: MAX_EVENTS,
          });
        }
        return audit.recordEvent({ transferId: id, type: input.type, data: input.data });
      });
    },

    async listEvents(id) {
      const record = await load(id);
      const events = (await audit.list(id, "event")) as EventRecord[];
      await act(record, "events.listed", "public");
      return events;
    },

    async listActions(id) {
      assertTransferId(id);
      await settledFor(id);
      const record = await load(id);
      const actions = (await audit.list(id, "action")) as ActionRecord[];
      await act(record, "actions.listed", "public");
      return actions.map((action) => ({ ...action, tokenId: null }));
    },

    async auditTrail(id) {
      assertTransferId(id);
      await settledFor(id);
      const record = await load(id);
      const trail = await audit.list(id);
      await act(record, "audit.read", "admin");
      return trail;
    },

    async list() {
      const at = now();
      return (await readRecords())
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
        .map((r) => toView(r, at));
    },

    async stats() {
      await core.inFlight.all();
      const at = now();
      const records = await readRecords();
      const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<TransferStatus, number>;
      let bytesStored = 0;
      let downloads = 0;
      let downloadsInProgress = 0;
      for (const record of records) {
        byStatus[effectiveStatus(record, at)] += 1;
        downloads += record.downloads;
        downloadsInProgress += record.downloadsInProgress;
        if (record.payloadDeletedAt === null && record.uploadedBytes !== null) bytesStored += record.uploadedBytes;
      }
      const allTokens = await tokens.list();
      const byState = Object.fromEntries(TOKEN_STATES.map((s) => [s, 0])) as Record<TokenState, number>;
      for (const token of allTokens) byState[token.state] += 1;
      return {
        generatedAt: new Date(at),
        transfers: { total: records.length, byStatus, bytesStored, downloads, downloadsInProgress },
        tokens: { total: allTokens.length, byState },
      };
    },
  };
}
