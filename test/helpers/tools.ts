import { spawnSync } from "node:child_process";

export function onPath(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

export const hasXdelta3 = onPath("xdelta3");
