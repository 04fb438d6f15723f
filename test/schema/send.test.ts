import { createHash, randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../../src/services/storage/memory-store.js";
import { startBrowseApp } from "../helpers/browse-app.js";
import { gql } from "../helpers/graphql.js";

const ADMIN_KEY = "graphql-admin-key-0123456789";
const admin = { "x-admin-key": ADMIN_KEY };

/** Root fields anyone may call; every other Query/Mutation field must refuse a caller without the admin key. */
const PUBLIC_FIELDS = new Set([
  "Query.health",
  "Query.buckets",
  "Query.bucket",
  "Query.object",
  "Query.node",
  "Query.nodes",
  "Query.transfer",
  "Mutation.computeSavings",
  "Mutation.prepareDownload",
  "Mutation.deleteObject",
  "Mutation.createTransfer",
  "Mutation.completeTransfer",
  "Mutation.deleteTransfer",
]);

interface TypeRef {
  kind: string;
  name: string | null;
  ofType: TypeRef | null;
}

interface RootField {
  name: string;
  args: { name: string; type: TypeRef }[];
  type: TypeRef;
}

const TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";
const INTROSPECT = `{ __schema {
  types { kind name inputFields { name type { ${TYPE_REF} } } }
  queryType { fields { name args { name type { ${TYPE_REF} } } type { ${TYPE_REF} } } }
  mutationType { fields { name args { name type { ${TYPE_REF} } } type { ${TYPE_REF} } } }
} }`;

function named(type: TypeRef): TypeRef {
  return type.ofType ? named(type.ofType) : type;
}

type InputTypes = Map<string, { name: string; type: TypeRef }[]>;

/** A literal of the right shape for a required argument: scalars get dummies, input objects their required fields. */
function literal(type: TypeRef, inputs: InputTypes): string {
  const base = named(type);
  if (base.kind === "INPUT_OBJECT") {
    const fields = (inputs.get(base.name ?? "") ?? []).filter((f) => f.type.kind === "NON_NULL");
    return `{ ${fields.map((f) => `${f.name}: ${literal(f.type, inputs)}`).join(", ")} }`;
  }
  if (base.kind === "ENUM") return "x";
  // A well-formed global id, so the refusal tested is the admin check's, not the id's parsing.
  if (base.name === "ID") return `"${Buffer.from("Token:x").toString("base64")}"`;
  return base.name === "Int" || base.name === "SafeInt" ? "1" : base.name === "Boolean" ? "true" : '"x"';
}

/** A minimal selection and dummy arguments for any root field, read from the served schema's introspection. */
function operationFor(kind: "query" | "mutation", field: RootField, inputs: InputTypes): string {
  const args = field.args.filter((a) => a.type.kind === "NON_NULL").map((a) => `${a.name}: ${literal(a.type, inputs)}`);
  const type = named(field.type);
  const selection = ["OBJECT", "INTERFACE", "UNION"].includes(type.kind) ? "{ __typename }" : "";
  return `${kind} { ${field.name}${args.length ? `(${args.join(", ")})` : ""} ${selection} }`;
}

describe("Send over GraphQL", () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await startBrowseApp(createMemoryStore(), { SEND_ADMIN_API_KEY: ADMIN_KEY }));
  });
  afterAll(() => app.close());

  it("refuses every admin field without the key, enumerated from the schema", async () => {
    const introspection = await gql(base, INTROSPECT);
    const served = introspection.data as {
      __schema: {
        types: { kind: string; name: string; inputFields: { name: string; type: TypeRef }[] | null }[];
        queryType: { fields: RootField[] };
        mutationType: { fields: RootField[] };
      };
    };
    const inputs: InputTypes = new Map(
      served.__schema.types.filter((t) => t.kind === "INPUT_OBJECT").map((t) => [t.name, t.inputFields ?? []]),
    );
    const roots = [
      ["query", "Query", served.__schema.queryType.fields],
      ["mutation", "Mutation", served.__schema.mutationType.fields],
    ] as const;
    const guarded: string[] = [];
    for (const [kind, rootName, fields] of roots) {
      for (const field of fields) {
        const id = `${rootName}.${field.name}`;
        if (PUBLIC_FIELDS.has(id)) continue;
        guarded.push(id);
        for (const headers of [{}, { "x-admin-key": "wrong-key-0123456789abc" }] as Record<string, string>[]) {
          const res = await gql(base, operationFor(kind, field, inputs), undefined, headers);
          expect(res.errors?.[0]?.extensions?.code, `${id} ${JSON.stringify(res)}`).toBe("unauthorized");
        }
      }
    }
    expect(guarded.sort()).toEqual([
      "Mutation.createToken",
      "Mutation.revokeToken",
      "Query.stats",
      "Query.tokens",
      "Query.transfers",
    ]);
  });

  it("answers a mutation's expected failure as a typed DomainError result, with REST's code", async () => {
    const res = await gql(
      base,
      'mutation { createToken(input: { label: "" }) { __typename ... on Error { code message } } }',
      undefined,
      admin,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toMatchObject({ createToken: { __typename: "DomainError", code: "invalid_request" } });
  });

  it("runs the transfer lifecycle: token, create, upload, complete, download, nodes, delete, revoke", async () => {
    const token = await gql(
      base,
      'mutation { createToken(input: { label: "gql", maxTransfers: 5 }) { ... on CreateTokenPayload { secret token { id state } } } }',
      undefined,
      admin,
    );
    expect(token.errors).toBeUndefined();
    const { secret, token: tokenNode } = (token.data as { createToken: { secret: string; token: { id: string } } })
      .createToken;
    const payload = randomBytes(4096);
    const deleteSecret = "bye-bye";
    const created = await gql(
      base,
      `mutation($input: CreateTransferInput!) { createTransfer(input: $input) { ... on CreateTransferPayload { transfer { id transferId status mode size } upload { __typename ... on ByteUpload { url } } } } }`,
      {
        input: {
          size: payload.length,
          maxDownloads: 2,
          deleteAuthHash: createHash("sha256").update(deleteSecret).digest("hex"),
        },
      },
      { authorization: `Bearer ${secret}` },
    );
    expect(created.errors).toBeUndefined();
    const { transfer, upload: instructions } = (
      created.data as {
        createTransfer: {
          transfer: { id: string; transferId: string; mode: string };
          upload: { __typename: string; url: string };
        };
      }
    ).createTransfer;
    expect(transfer.mode).toBe("BYTES");
    // UploadInstructions is a union: the byte store answers a ByteUpload carrying its route.
    expect(instructions).toEqual({
      __typename: "ByteUpload",
      url: `/api/transfers/id/${transfer.transferId}/payload/upload-bytes`,
    });
    const upload = await fetch(`${base}${instructions.url}`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/octet-stream" },
      body: payload,
    });
    expect(upload.status).toBe(200);
    const noToken = await gql(
      base,
      `mutation { completeTransfer(input: { id: "${transfer.id}" }) { ... on Error { code } } }`,
    );
    expect(noToken).toEqual({ data: { completeTransfer: { code: "unauthorized" } } });
    const completed = await gql(
      base,
      `mutation { completeTransfer(input: { id: "${transfer.id}" }) { ... on CompleteTransferPayload { transfer { status downloads maxDownloads } } } }`,
      undefined,
      { authorization: `Bearer ${secret}` },
    );
    expect(completed.data).toEqual({
      completeTransfer: { transfer: { status: "COMPLETED", downloads: 0, maxDownloads: 2 } },
    });

    const download = await fetch(`${base}/api/transfers/id/${transfer.transferId}/payload/download-bytes`);
    expect(Buffer.from(await download.arrayBuffer()).equals(payload)).toBe(true);

    /** The transfer's status reads in its audit trail (REST's status route and Query.transfer each write one). */
    const statusReads = async () => {
      const res = await fetch(`${base}/api/admin/audit/transfers/id/${transfer.transferId}/all`, { headers: admin });
      const { records } = (await res.json()) as { records: { action?: string }[] };
      return records.filter((r) => r.action === "transfer.status_read").length;
    };
    const node = await gql(base, `{ node(id: "${transfer.id}") { id ... on Transfer { downloads status } } }`);
    expect(node.data).toEqual({ node: { id: transfer.id, downloads: 1, status: "COMPLETED" } });
    // Loading the node is a read through the graph, not a status request: no audit record; Query.transfer writes one.
    expect(await statusReads()).toBe(0);
    const status = await gql(base, `{ transfer(id: "${transfer.id}") { id status } }`);
    expect(status.data).toEqual({ transfer: { id: transfer.id, status: "COMPLETED" } });
    expect(await statusReads()).toBe(1);

    // Lookups by a well-formed id that matches nothing answer null; an id of another type is the caller's mistake.
    const unknown = Buffer.from("Transfer:AAAAAAAAAAAAAAAAAAAAAA").toString("base64");
    expect(await gql(base, `{ transfer(id: "${unknown}") { status } }`)).toEqual({ data: { transfer: null } });
    const many = await gql(base, `{ nodes(ids: ["${transfer.id}", "${unknown}"]) { id } }`);
    expect(many.data).toEqual({ nodes: [{ id: transfer.id }, null] });
    const wrongType = await gql(base, `{ transfer(id: "${tokenNode.id}") { status } }`);
    expect(wrongType.errors?.[0]?.extensions?.code).toBe("invalid_request");
    const rawId = await gql(
      base,
      `mutation { completeTransfer(input: { id: "${transfer.transferId}" }) { ... on Error { code } } }`,
      undefined,
      {
        authorization: `Bearer ${secret}`,
      },
    );
    expect(rawId.errors?.[0]?.extensions?.code).toBe("invalid_request");
    const tokenPublic = await gql(base, `{ node(id: "${tokenNode.id}") { id } }`);
    expect(tokenPublic.errors?.[0]?.extensions?.code).toBe("unauthorized");
    const tokenAdmin = await gql(
      base,
      `{ node(id: "${tokenNode.id}") { id ... on Token { transfersUsed } } }`,
      undefined,
      admin,
    );
    expect(tokenAdmin.data).toEqual({ node: { id: tokenNode.id, transfersUsed: 1 } });

    const listed = await gql(
      base,
      "{ transfers(first: 10) { edges { node { id } } } stats { transfers tokens byStatus { status count } } }",
      undefined,
      admin,
    );
    expect(listed.data).toEqual({
      transfers: { edges: [{ node: { id: transfer.id } }] },
      stats: {
        transfers: 1,
        tokens: 1,
        byStatus: [
          { status: "PENDING", count: 0 },
          { status: "UPLOADED", count: 0 },
          { status: "COMPLETED", count: 1 },
          { status: "EXHAUSTED", count: 0 },
          { status: "EXPIRED", count: 0 },
          { status: "DELETED", count: 0 },
        ],
      },
    });

    const wrongSecret = await gql(
      base,
      `mutation { deleteTransfer(input: { id: "${transfer.id}", deleteAuth: "nope" }) { __typename ... on Error { code } } }`,
    );
    // An expected failure is data (the errors plugin's union), with REST's code.
    expect(wrongSecret).toEqual({ data: { deleteTransfer: { __typename: "DomainError", code: "forbidden" } } });
    const deleted = await gql(
      base,
      `mutation { deleteTransfer(input: { id: "${transfer.id}", deleteAuth: "${deleteSecret}" }) { ... on DeleteTransferPayload { transfer { status } } } }`,
    );
    expect(deleted.data).toEqual({ deleteTransfer: { transfer: { status: "DELETED" } } });
    const gone = await gql(base, `{ transfer(id: "${transfer.id}") { status } }`);
    expect(gone.errors?.[0]?.extensions?.code).toBe("transfer_deleted");

    const revoked = await gql(
      base,
      `mutation { revokeToken(input: { id: "${tokenNode.id}" }) { ... on RevokeTokenPayload { token { state } } } }`,
      undefined,
      admin,
    );
    expect(revoked.data).toEqual({ revokeToken: { token: { state: "REVOKED" } } });
    const refused = await gql(
      base,
      "mutation { createTransfer(input: { size: 10 }) { ... on Error { code } } }",
      undefined,
      {
        authorization: `Bearer ${secret}`,
      },
    );
    expect(refused).toEqual({ data: { createTransfer: { code: "token_revoked" } } });

    const audit = await fetch(`${base}/api/admin/audit/transfers/id/${transfer.transferId}/all`, { headers: admin });
    const trail = JSON.stringify(await audit.json());
    expect(trail).toContain("graphql Mutation.completeTransfer");
  });
});
