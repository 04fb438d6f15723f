import type { Verb } from "./runtime.js";

/**
 * Each verb's module, imported only when that verb runs. Written out (not a template string) so the bundler sees
 * every verb and gives each its own chunk: `glider ls` never reads the code of `cp` or `migrate`.
 */
export const VERBS = {
  cp: () => import("./commands/cp.js"),
  ls: () => import("./commands/ls.js"),
  rm: () => import("./commands/rm.js"),
  sync: () => import("./commands/sync.js"),
  migrate: () => import("./commands/migrate.js"),
  verify: () => import("./commands/verify.js"),
  stats: () => import("./commands/stats.js"),
  purge: () => import("./commands/purge.js"),
  "get-bucket-acl": () => import("./commands/get-bucket-acl.js"),
  "put-bucket-acl": () => import("./commands/put-bucket-acl.js"),
} satisfies Record<string, () => Promise<{ run: Verb }>>;

export type VerbName = keyof typeof VERBS;
