import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateOpenapi } from "../../src/tools/openapi.js";
import { REPO_ROOT } from "../helpers/shared.js";

describe("openapi.yaml is generated from the routes", () => {
  it("is what `npm run openapi` prints, the same on every run", async () => {
    const first = await generateOpenapi();
    const second = await generateOpenapi();
    expect(second).toBe(first);
    // On failure: run `npm run openapi` and commit the result (a route schema changed).
    expect(readFileSync(join(REPO_ROOT, "openapi.yaml"), "utf8")).toBe(first);
  });
});
