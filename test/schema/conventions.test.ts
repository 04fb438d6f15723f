import type { GraphQLEnumType, GraphQLField, GraphQLObjectType } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.js";

/** The printed schema is the API's documentation: these checks keep it self-describing (issue 21, finding 3). */
const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
  (t): t is GraphQLObjectType => t !== null && t !== undefined,
);
const rootFields = roots.flatMap((root) =>
  Object.values(root.getFields()).map((field) => ({ name: `${root.name}.${field.name}`, field })),
);
// By class name, not `isObjectType`: Pothos' schema comes from graphql's CJS build, vitest loads the ESM one.
const domainTypes = Object.values(schema.getTypeMap()).filter(
  (t): t is GraphQLObjectType =>
    t.constructor.name === "GraphQLObjectType" && !t.name.startsWith("__") && !roots.some((r) => r === t),
);
const undescribed = (field: GraphQLField<unknown, unknown>, name: string) => [
  ...(field.description ? [] : [name]),
  ...field.args.filter((a) => !a.description).map((a) => `${name}(${a.name})`),
];

describe("GraphQL schema conventions", () => {
  it("describes every root field and every argument of one", () => {
    expect(rootFields.length).toBeGreaterThan(15);
    expect(rootFields.flatMap(({ name, field }) => undescribed(field, name))).toEqual([]);
  });

  it("spells every enum value in upper case (the services' lower-case strings are internal values)", () => {
    const enums = Object.values(schema.getTypeMap()).filter(
      (t): t is GraphQLEnumType => t.constructor.name === "GraphQLEnumType" && !t.name.startsWith("__"),
    );
    expect(enums.map((e) => e.name)).toEqual(expect.arrayContaining(["PayloadMode", "TransferStatus", "TokenState"]));
    const lower = enums.flatMap((e) => e.getValues().filter((v) => !/^[A-Z][A-Z0-9_]*$/.test(v.name)));
    expect(lower.map((v) => v.name)).toEqual([]);
  });

  it("takes global ids, looks up nullably, and offers only the paging each list supports", () => {
    const query = schema.getQueryType()?.getFields() ?? {};
    const argType = (field: GraphQLField<unknown, unknown> | undefined, arg: string) =>
      field?.args.find((a) => a.name === arg)?.type.toString();
    expect(argType(query.transfer, "id")).toBe("ID!");
    expect(query.transfer?.type.toString()).toBe("Transfer");
    expect(query.nodes?.type.toString()).toBe("[Node]!");
    const inputField = (name: string, field: string) =>
      (schema.getType(name) as { getFields(): Record<string, { type: { toString(): string } }> } | undefined)
        ?.getFields()
        [field]?.type.toString();
    for (const name of ["CompleteTransferInput", "DeleteTransferInput", "RevokeTokenInput"]) {
      expect(inputField(name, "id"), name).toBe("ID!");
    }
    const bucket = schema.getType("Bucket") as GraphQLObjectType;
    expect(bucket.getFields().objects?.args.map((a) => a.name)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/^(last|before)$/)]),
    );
    const token = schema.getType("Token") as GraphQLObjectType;
    expect(Object.keys(token.getFields())).not.toContain("tokenId");
  });

  it("gives every mutation one `input: …Input!` argument and a `…Payload` result; upload instructions are a union", () => {
    const mutations = Object.values(schema.getMutationType()?.getFields() ?? {});
    const shapes = mutations.map((m) => ({
      name: m.name,
      args: m.args.map((a) => `${a.name}: ${a.type}`),
      type: m.type.toString(),
    }));
    const capital = (name: string) => name[0]?.toUpperCase() + name.slice(1);
    expect(shapes).toEqual(
      mutations.map((m) => ({
        name: m.name,
        args: [`input: ${capital(m.name)}Input!`],
        // A mutation with expected failures returns its payload or a DomainError (@pothos/plugin-errors).
        type: m.type.toString().endsWith("Result!") ? `${capital(m.name)}Result!` : `${capital(m.name)}Payload!`,
      })),
    );
    expect(schema.getType("UploadInstructions")?.constructor.name).toBe("GraphQLUnionType");
  });

  it("describes every domain object type", () => {
    // Relay's generated edge, connection and page-info types are documented by the Relay spec itself.
    const generated = /(Edge|Connection)$|^PageInfo$/;
    const missing = domainTypes.filter((t) => !generated.test(t.name) && !t.description).map((t) => t.name);
    expect(missing).toEqual([]);
  });
});
