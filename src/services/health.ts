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
  /** Readiness: the object store answered recently, or answers a probe within the timeout. */
  ready(): Promise<Readiness>;
}

export interface HealthOptions {
  /** Epoch ms of the store's last answer (any call, any caller). */
  lastAnswerAt?: () => number;
  /** An answer this recent proves the store works, with no probe. @default 10000 */
  freshMs?: number;
  /** Deadline of the probe, when one is needed. @default 3000 */
  probeTimeoutMs?: number;
  conditionalWrites?: ConditionalWriteProbe;
  /** Shared state of several instances (REDIS_URL): reported, never a reason to be unready. */
  redis?: SharedRedis;
}

/**
 * Readiness that does not flap under load: a busy instance has just talked to its store, so the last answer is
 * proof enough; only an idle one probes, and concurrent checks share a single probe.
 */
export function createHealthService(store: ObjectStore, options: HealthOptions = {}): HealthService {
  const freshMs = options.freshMs ?? 10_000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 3000;
  const conditionalWrites = options.conditionalWrites;
  let probing: Promise<Readiness> | undefined;

  async function healthy(signal: AbortSignal): Promise<Readiness> {
    // The first /ready runs the probe; a probe that cannot finish leaves the field out, not the instance unready.
    const support = await conditionalWrites?.support(signal).catch(() => undefined);
    const conditional_writes = reported(support ?? conditionalWrites?.current());
    return { ready: true, checks: { storage: { ok: true, backend: store.kind, conditional_writes } } };
  }

  async function probe(): Promise<Readiness> {
    const signal = AbortSignal.timeout(probeTimeoutMs);
    try {
      await store.ping(signal);
      return await healthy(signal);
    } catch (error) {
      // The probe may have lost a race with a real call that did get an answer meanwhile.
      if (isFresh()) return healthy(AbortSignal.timeout(probeTimeoutMs));
      const message = error instanceof Error ? error.message : String(error);
      return { ready: false, checks: { storage: { ok: false, backend: store.kind, error: message } } };
    }
  }

  async function redisCheck(): Promise<Readiness["checks"]["redis"]> {
    if (!options.redis) return undefined;
    try {
      await options.redis.ping(probeTimeoutMs);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async function storageReadiness(): Promise<Readiness> {
    if (isFresh()) return healthy(AbortSignal.timeout(probeTimeoutMs));
    probing ??= probe().finally(() => {
      probing = undefined;
    });
    return probing;
  }

  function isFresh(): boolean {
    const last = options.lastAnswerAt?.() ?? 0;
    return last > 0 && Date.now() - last < freshMs;
  }

  return {
    live: () => ({ status: "ok", uptimeSeconds: Math.round(process.uptime()) }),
    async ready() {
      const [storage, redis] = await Promise.all([storageReadiness(), redisCheck()]);
      // A copy: concurrent callers share one probe's answer object.
      return redis ? { ...storage, checks: { ...storage.checks, redis } } : storage;
    },
  };
}
