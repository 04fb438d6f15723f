import { statusOf } from "../errors.js";

/** What a front door knows about one request that named a transfer. */
export interface RequestFacts {
  transferId: string;
  method: string;
  /** The route pattern (REST) or `graphql <Type.field>`. */
  route: string;
  latencyMs: number;
  ip?: string;
  userAgent?: string;
}

/**
 * How the request ended. A front door that answered with an HTTP status (REST) passes it; one that has only the
 * result (GraphQL) passes the error, or `created` for a new transfer, and the status comes from the same table REST
 * answers with (services/errors.ts), so both doors leave identical request records.
 */
export type RequestOutcome = { status: number } | { error: unknown } | { created: true } | { ok: true };

/** The status a request record stores for an outcome. */
export function outcomeStatus(outcome: RequestOutcome): number {
  if ("status" in outcome) return outcome.status;
  if ("error" in outcome) return statusOf(outcome.error);
  return "created" in outcome ? 201 : 200;
}

/** The one writer of request records; `transfers.recordRequest` skips ids that name no transfer. */
export interface RequestRecorder {
  recordRequest(input: RequestFacts & { status: number }): Promise<void>;
}

/** Records the request's outcome; a failed audit write is reported to `onError`, never to the caller. */
export async function recordOutcome(
  recorder: RequestRecorder,
  facts: RequestFacts,
  outcome: RequestOutcome,
  onError: (error: unknown) => void = () => undefined,
): Promise<void> {
  await recorder.recordRequest({ ...facts, status: outcomeStatus(outcome) }).catch(onError);
}

/**
 * Runs one transfer operation for a front door without HTTP statuses of its own and records its outcome, success or
 * failure, timed from the start. `transferIdOf` names the transfer a create made (its id is unknown before).
 */
export async function audited<T>(
  recorder: RequestRecorder,
  facts: Omit<RequestFacts, "latencyMs" | "transferId"> & { transferId?: string },
  run: () => Promise<T>,
  transferIdOf?: (result: T) => string,
): Promise<T> {
  const started = performance.now();
  const done = (transferId: string | undefined, outcome: RequestOutcome) =>
    transferId === undefined
      ? undefined
      : recordOutcome(recorder, { ...facts, transferId, latencyMs: performance.now() - started }, outcome);
  let result: T;
  try {
    result = await run();
  } catch (error) {
    await done(facts.transferId, { error });
    throw error;
  }
  await done(transferIdOf ? transferIdOf(result) : facts.transferId, transferIdOf ? { created: true } : { ok: true });
  return result;
}
