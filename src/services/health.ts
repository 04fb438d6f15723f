import type { SharedRedis } from "./shared/redis.js";
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
    /**
     * Present with REDIS_URL. Redis being down does not make the instance unready: reads keep working and the
     * shared features answer `unavailable` (503) until it is back, so a load balancer should keep sending traffic.
     */
    redis?: { ok: boolean; error?: string };
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
  redis?: SharedRedis,
): HealthService {
  async function redisCheck(): Promise<Readiness["checks"]["redis"]> {
    if (!redis) return undefined;
    try {
      await redis.ping(timeoutMs);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }
  async function storageReadiness(): Promise<Readiness> {
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
  }
  return {
    live: () => ({ status: "ok", uptimeSeconds: Math.round(process.uptime()) }),
    async ready() {
      const [readiness, shared] = await Promise.all([storageReadiness(), redisCheck()]);
      if (shared) readiness.checks.redis = shared;
      return readiness;
    },
  };
}
