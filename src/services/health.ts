import type { ObjectStore } from "./storage/object-store.js";

export interface Readiness {
  ready: boolean;
  checks: { storage: { ok: boolean; backend: string; error?: string } };
}

export interface HealthService {
  /** Liveness: the process answers. */
  live(): { status: "ok"; uptimeSeconds: number };
  /** Readiness: the object store answers within the timeout. */
  ready(): Promise<Readiness>;
}

export function createHealthService(store: ObjectStore, timeoutMs = 3000): HealthService {
  return {
    live: () => ({ status: "ok", uptimeSeconds: Math.round(process.uptime()) }),
    async ready() {
      try {
        await store.ping(AbortSignal.timeout(timeoutMs));
        return { ready: true, checks: { storage: { ok: true, backend: store.kind } } };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { ready: false, checks: { storage: { ok: false, backend: store.kind, error: message } } };
      }
    },
  };
}
