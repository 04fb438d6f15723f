/** Layer rules checked by `npm run lint`: dependencies point inward, the codec and storage stay self-contained. */
module.exports = {
  forbidden: [
    {
      name: "services-stay-transport-free",
      comment: "services hold the behaviour; they never know a front door or a web framework",
      severity: "error",
      from: { path: "^src/services" },
      to: {
        path: [
          "^src/(schema|resolvers|rest|app|main)",
          "node_modules/(fastify|@fastify|graphql-yoga|@pothos|dataloader|graphql-ws)/",
        ],
      },
    },
    {
      name: "storage-knows-nothing-of-deltaglider",
      severity: "error",
      from: { path: "^src/services/storage" },
      to: { path: "^src/services/(?!storage/|errors\\.ts|metrics\\.ts)" },
    },
    {
      name: "codec-is-self-contained",
      comment: "the VCDIFF codec is a library: Node built-ins and its own files only",
      severity: "error",
      from: { path: "^src/services/vcdiff" },
      to: {
        pathNot: ["^src/services/vcdiff/", "^node:", "^(fs|path|stream|crypto|zlib|os|util|child_process)$"],
        dependencyTypesNot: ["core"],
      },
    },
    {
      name: "rest-does-not-use-graphql",
      severity: "error",
      from: { path: "^src/rest" },
      to: { path: "^src/(schema|resolvers)" },
    },
    {
      name: "front-doors-use-service-interfaces",
      comment:
        "REST, GraphQL and the CLI reach a service through its interface module (index.ts, service.ts or types.ts " +
        "of services/<name>/), never its internals, so a service can be reorganised without touching a front door",
      severity: "error",
      from: { path: "^src/(rest|resolvers|schema|cli)(/|\\.ts$)" },
      to: {
        path: "^src/services/[^/]+/",
        pathNot: "^src/services/[^/]+/(index|service|types)\\.ts$",
      },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
