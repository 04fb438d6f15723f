import { describe, expect, it } from "vitest";
import { AddEventBody, CreateTokenBody, CreateTransferBody } from "../../src/rest/send/schemas.js";
import { checkLimit } from "../../src/services/objects/query.js";
import { BULK_DELETE_MAX, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from "../../src/services/objects/service.js";
import {
  CONTENT_TYPE_MAX_LENGTH,
  EVENT_TYPE_MAX_LENGTH,
  MAX_DOWNLOADS,
  TOKEN_LABEL_MAX_LENGTH,
} from "../../src/services/send/index.js";
import { checkCreateInput } from "../../src/services/send/transfers/inputs.js";
import { spec } from "../helpers/openapi.js";

type Body = { content: { "application/json": { schema: { properties: Record<string, Record<string, number>> } } } };
/** A schema's keywords, as fastify and swagger read them (TypeBox's types do not list the numeric ones). */
const keywords = (schema: unknown) => schema as { maximum?: number; maxLength?: number };

const bodyOf = (path: string) =>
  (spec.paths[path].post as unknown as { requestBody: Body }).requestBody.content["application/json"].schema.properties;

/** Each limit is one constant in services: the service checks it, the route schema and openapi.yaml state it. */
describe("limits come from the services' constants", () => {
  it("max_downloads: the service's check, the route schema and openapi.yaml agree", () => {
    expect(keywords(CreateTransferBody.properties.max_downloads).maximum).toBe(MAX_DOWNLOADS);
    expect(bodyOf("/api/transfers/create").max_downloads.maximum).toBe(MAX_DOWNLOADS);
    expect(checkCreateInput({ size: 1, maxDownloads: MAX_DOWNLOADS }, 10).maxDownloads).toBe(MAX_DOWNLOADS);
    expect(() => checkCreateInput({ size: 1, maxDownloads: MAX_DOWNLOADS + 1 }, 10)).toThrow(
      `max_downloads must be an integer from 0 to ${MAX_DOWNLOADS}`,
    );
  });

  it("content type, token label and event type lengths", () => {
    expect(keywords(CreateTransferBody.properties.content_type).maxLength).toBe(CONTENT_TYPE_MAX_LENGTH);
    expect(() => checkCreateInput({ size: 1, contentType: "a".repeat(CONTENT_TYPE_MAX_LENGTH + 1) }, 10)).toThrow(
      `content_type must be 1-${CONTENT_TYPE_MAX_LENGTH}`,
    );
    expect(keywords(CreateTokenBody.properties.label).maxLength).toBe(TOKEN_LABEL_MAX_LENGTH);
    expect(bodyOf("/api/admin/tokens/create").label.maxLength).toBe(TOKEN_LABEL_MAX_LENGTH);
    expect(keywords(AddEventBody.properties.type).maxLength).toBe(EVENT_TYPE_MAX_LENGTH);
  });

  it("object pages: the service's limit check and openapi.yaml agree", () => {
    const limit = (
      spec.paths["/api/objects"].get as unknown as { parameters: { name: string; schema: Record<string, number> }[] }
    ).parameters.find((p) => p.name === "limit");
    expect(limit?.schema.maximum).toBe(LIST_LIMIT_MAX);
    expect(checkLimit(undefined)).toBe(LIST_LIMIT_DEFAULT);
    expect(checkLimit(LIST_LIMIT_MAX)).toBe(LIST_LIMIT_MAX);
    expect(() => checkLimit(LIST_LIMIT_MAX + 1)).toThrow(`limit must be an integer from 1 to ${LIST_LIMIT_MAX}`);
  });

  it("bulk delete: at most BULK_DELETE_MAX keys in openapi.yaml", () => {
    const bulk = (spec.paths["/api/objects/bulk"].delete as unknown as { requestBody: Body }).requestBody.content[
      "application/json"
    ].schema.properties as unknown as { keys: { maxItems: number } };
    expect(bulk.keys.maxItems).toBe(BULK_DELETE_MAX);
  });
});
