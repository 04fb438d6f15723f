import type { BuildOptions, Plugin } from "esbuild";

export declare const builtinsByRequire: Plugin;
export declare const commonOptions: BuildOptions;
