import type { ConditionalWriteProbe, ConditionalWriteSupport } from "./storage/conditional-writes.js";
import type { ObjectStore } from "./storage/object-store.js";

export interface Readiness {
  ready: boolean;
  checks: {
    storage: {
      ok: boolean;
      backend: string;
      error?: string;
      /** Probed once per backend: does it enforce If-None-Match: * and If-Match? Absent until a probe finished. */
      conditional_writes?: { if_none_match: boolean; if_match: boolean };
    };
  };
}

function reported(support: ConditionalWriteSupport | undefined) {
  return support && { if_none_match: support.ifNoneMatch, if_match: support.ifMatch };
}

export interface HealthService {
  /** Liveness: the process answers. */
  live(): { status: "ok"; uptimeSeconds: number };
  /** Readiness: the object store answers within the timeout. */
  ready(): Promise<Readiness>;
}

export function createHealthService(
  store: ObjectStore,
  timeoutMs = 3000,
  conditionalWrites?: ConditionalWriteProbe,
): HealthService {
  return {
    live: () => ({ status: "ok", uptimeSeconds: Math.round(process.uptime()) }),
    async ready() {
      try {
        const signal = AbortSignal.timeout(timeoutMs);
        await store.ping(signal);
        // The first /ready runs the probe; a probe that cannot finish leaves the field out, not the instance unready.
        const support = await conditionalWrites?.support(signal).catch(() => undefined);
        const conditional_writes = reported(support ?? conditionalWrites?.current());
        return { ready: true, checks: { storage: { ok: true, backend: store.kind, conditional_writes } } };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { ready: false, checks: { storage: { ok: false, backend: store.kind, error: message } } };
      }
    },
  };
}
