import { mapWithConcurrency } from "../../concurrency.js";
import { GliderError } from "../../errors.js";
import { createInFlight, type InFlight } from "../in-flight.js";
import { EVENT_DATA_MAX_BYTES, EVENT_TYPE_MAX_LENGTH } from "../limits.js";
import { newRandomId, type SystemStore } from "../system-store.js";
import type { ClientHasher } from "./ip.js";
import type {
  ActionRecord,
  ActionRecordInput,
  AuditKind,
  AuditRecord,
  EventRecord,
  EventRecordInput,
  IpMode,
  RequestRecord,
  RequestRecordInput,
} from "./types.js";

/**
 * Per-transfer audit trail: request, action and event records, each one JSON object in the system bucket under
 * `audit/<transfer_id>/<kind>/<ms>-<seq>-<rand>.json`. Knows nothing of HTTP; the front doors hand it plain values.
 */
export interface AuditService {
  readonly ipMode: IpMode;
  /** What a log line may show for a client address: itself, or its keyed hash in anonymised mode. */
  displayIp(ip: string | undefined): string | undefined;
  recordRequest(input: RequestRecordInput): Promise<RequestRecord>;
  recordAction(input: ActionRecordInput): Promise<ActionRecord>;
  /** Validates and stores a client event (`invalid_request` for a bad type or an oversized payload). */
  recordEvent(input: EventRecordInput): Promise<EventRecord>;
  /** Records of one transfer (one kind, or all merged) in time order; waits for this process's pending writes. */
  list(transferId: string, kind?: AuditKind): Promise<AuditRecord[]>;
  /** How many records of one kind a transfer has (a listing, no reads). */
  count(transferId: string, kind: AuditKind): Promise<number>;
  /** Waits for every write in flight. */
  flush(): Promise<void>;
}

export interface AuditServiceOptions {
  system: SystemStore;
  hasher: ClientHasher;
  now: () => number;
  /** Send's write tracker, shared with transfers; a private one by default. */
  inFlight?: InFlight;
}

const EVENT_TYPE = new RegExp(`^[A-Za-z0-9._:-]{1,${EVENT_TYPE_MAX_LENGTH}}$`);
const FOLDER: Record<AuditKind, string> = { request: "requests", action: "actions", event: "events" };
const READ_CONCURRENCY = 16;

type Stored<T extends AuditRecord> = Omit<T, "at"> & { at: string };

function toStored<T extends AuditRecord>(record: T): Stored<T> {
  return { ...record, at: record.at.toISOString() };
}

function fromStored(stored: Stored<AuditRecord>): AuditRecord {
  return { ...stored, at: new Date(stored.at) } as AuditRecord;
}

export function compareRecords(a: AuditRecord, b: AuditRecord): number {
  return a.at.getTime() - b.at.getTime() || a.seq - b.seq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function createAuditService({ system, hasher, now, inFlight }: AuditServiceOptions): AuditService {
  let seq = 0;
  // Shared with transfers (download bookkeeping), so a list right after a request sees that request's records.
  const pending = inFlight ?? createInFlight();

  function base(transferId: string) {
    const at = now();
    seq += 1;
    return {
      id: newRandomId(12),
      transferId,
      at: new Date(at),
      seq,
    };
  }

  function keyOf(record: AuditRecord): string {
    const ms = String(record.at.getTime()).padStart(15, "0");
    const n = String(record.seq).padStart(10, "0");
    return `audit/${record.transferId}/${FOLDER[record.kind]}/${ms}-${n}-${record.id}.json`;
  }

  async function write<T extends AuditRecord>(record: T): Promise<T> {
    await pending.track(record.transferId, system.writeJson(keyOf(record), toStored(record)));
    return record;
  }

  async function readAll(keys: string[]): Promise<AuditRecord[]> {
    const stored = await mapWithConcurrency(keys, READ_CONCURRENCY, (key) => system.readJson<Stored<AuditRecord>>(key));
    return stored.filter((s): s is Stored<AuditRecord> => s !== undefined).map(fromStored);
  }

  return {
    ipMode: hasher.ipMode,

    displayIp(ip) {
      return hasher.ip(ip) ?? undefined;
    },

    recordRequest(input) {
      return write<RequestRecord>({
        ...base(input.transferId),
        kind: "request",
        method: input.method,
        route: input.route,
        status: input.status,
        latencyMs: Math.round(input.latencyMs * 10) / 10,
        ip: hasher.ip(input.ip),
        ipMode: hasher.ipMode,
        userAgentHash: hasher.userAgent(input.userAgent),
      });
    },

    recordAction(input) {
      return write<ActionRecord>({
        ...base(input.transferId),
        kind: "action",
        action: input.action,
        actor: input.actor,
        tokenId: input.tokenId ?? null,
        details: input.details ?? {},
      });
    },

    async recordEvent(input) {
      if (!EVENT_TYPE.test(input.type)) {
        throw new GliderError(
          "invalid_request",
          `event type must be 1-${EVENT_TYPE_MAX_LENGTH} characters of A-Z a-z 0-9 . _ : -`,
          {
            parameter: "type",
          },
        );
      }
      const data = input.data ?? {};
      if (typeof data !== "object" || data === null || Array.isArray(data)) {
        throw new GliderError("invalid_request", "event data must be a JSON object", { parameter: "data" });
      }
      if (Buffer.byteLength(JSON.stringify(data)) > EVENT_DATA_MAX_BYTES) {
        throw new GliderError("invalid_request", `event data must be at most ${EVENT_DATA_MAX_BYTES} bytes of JSON`, {
          parameter: "data",
        });
      }
      return write<EventRecord>({ ...base(input.transferId), kind: "event", type: input.type, data });
    },

    async list(transferId, kind) {
      await pending.settled(transferId);
      const prefix = kind ? `audit/${transferId}/${FOLDER[kind]}/` : `audit/${transferId}/`;
      const records = await readAll(await system.listKeys(prefix));
      return records.sort(compareRecords);
    },

    async count(transferId, kind) {
      await pending.settled(transferId);
      return (await system.listKeys(`audit/${transferId}/${FOLDER[kind]}/`)).length;
    },

    async flush() {
      await pending.all();
    },
  };
}
