import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { REPO_ROOT } from "./shared.js";

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }>; $ref?: string }>;
}

export const spec = parse(readFileSync(join(REPO_ROOT, "openapi.yaml"), "utf8")) as {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
};

const ajv = new Ajv2020.default({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema({ $id: "openapi", components: spec.components }, "openapi");

function resolveRef<T>(node: T): T {
  const ref = (node as { $ref?: string })?.$ref;
  if (!ref) return node;
  const path = ref.replace(/^#\//, "").split("/");
  let target: unknown = spec;
  for (const part of path) target = (target as Record<string, unknown>)[part];
  return target as T;
}

/** Rewrites local refs so ajv resolves them inside the registered `openapi` document. */
function withAbsoluteRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
}

/** Spec paths matching a concrete URL path, literal ones first; `{key}` may span segments (keys contain "/"). */
export function matchPaths(path: string): string[] {
  return Object.keys(spec.paths)
    .map((template) => {
      const pattern = template
        .split("/")
        .map((seg) =>
          seg === "{key}" ? ".+" : seg.startsWith("{") ? "[^/]+" : seg.replace(/[.*+?^$()|[\]\\]/g, "\\$&"),
        )
        .join("/");
      return { template, re: new RegExp(`^${pattern}$`), params: template.split("{").length };
    })
    .filter((c) => c.re.test(path))
    .sort((a, b) => a.params - b.params)
    .map((c) => c.template);
}

/** The operation for a method and concrete path, if openapi.yaml describes one. */
export function findOperation(method: string, path: string): { template: string; operation: Operation } | undefined {
  for (const template of matchPaths(path)) {
    const operation = spec.paths[template][method.toLowerCase()];
    if (operation) return { template, operation };
  }
  return undefined;
}

/** Validates one real response against openapi.yaml; returns the problems (empty when it conforms). */
export function validateResponse(method: string, url: string, status: number, contentType: string, body: unknown) {
  const path = new URL(url, "http://x").pathname;
  const found = findOperation(method, path);
  if (!found) return [`openapi.yaml has no ${method} matching ${path}`];
  const { template, operation } = found;
  // Exact status, then its range ("4XX"), then default, as OpenAPI resolves them.
  const response = resolveRef(
    operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default,
  );
  if (!response) return [`openapi.yaml has no ${status} (or default) response for ${method} ${template}`];
  const mediaType = contentType.split(";")[0].trim();
  const media = response.content?.[mediaType];
  if (!media) return [`${method} ${template} ${status}: content type ${mediaType} not described`];
  if (!media.schema || mediaType !== "application/json") return [];
  const validate = ajv.compile(withAbsoluteRefs(media.schema) as object);
  return validate(body)
    ? []
    : (validate.errors ?? []).map((e) => `${method} ${template} ${status}: ${e.instancePath} ${e.message}`);
}
