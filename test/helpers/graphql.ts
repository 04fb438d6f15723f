import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";

export interface GraphQLResult<T> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string } }[];
}

/** Sends a typed operation over HTTP POST, as the UI does. */
export async function gql<T, V>(
  base: string,
  document: TypedDocumentNode<T, V> | string,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<GraphQLResult<T>> {
  const res = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query: typeof document === "string" ? document : print(document), variables }),
  });
  return (await res.json()) as GraphQLResult<T>;
}
