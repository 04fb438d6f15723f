/**
 * esbuild options shared by the `glider` bundle (scripts/bundle-cli.mjs) and bench:cli's probes, which must load
 * their code the way the CLI does for their figures to bound the CLI's.
 */

/** The bundle's dynamic imports of Node built-ins, turned into require() so that no real import() is left: a
 * vm.Script has no module loader for it on Node 20 (vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER is experimental). */
export const builtinsByRequire = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === "dynamic-import" ? { path: args.path, namespace: "builtin" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

export const commonOptions = {
  bundle: true,
  platform: "node",
  target: "node20",
  // ESM builds of the AWS SDK are marked side-effect free, so unused commands and serialisers drop out (a third of
  // the CommonJS builds' size).
  mainFields: ["module", "main"],
  // piscina starts its own worker file by path, relative to its package: it must stay a real package.
  external: ["piscina"],
  // Drops code a define makes dead (the package.json fallback of --version); names and lines stay readable.
  minifySyntax: true,
  legalComments: "none",
  sourcemap: "linked",
  logLevel: "warning",
};
