/**
 * GraphQL enum values are upper-case by convention while the services (and REST's JSON) use lower-case strings:
 * `["pending"]` becomes `{ PENDING: { value: "pending" } }`, so resolvers keep returning the service's value.
 */
export function upperCaseValues<const V extends string>(values: readonly V[]) {
  return Object.fromEntries(values.map((value) => [value.toUpperCase(), { value }])) as {
    [K in V as Uppercase<K>]: { value: K };
  };
}
