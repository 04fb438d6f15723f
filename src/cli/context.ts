import type { Services } from "../services/index.js";
import { errorLine } from "./errors.js";
import { clearStatus, printError } from "./progress.js";

export interface CliOptions {
  recursive: boolean;
  json: boolean;
  /** Objects transferred at once by `cp -r` downloads. */
  concurrency: number;
}

/** What every command gets: the services, the parsed flags, a cancellation signal and the two output channels. */
export interface CommandContext {
  services: Services;
  options: CliOptions;
  signal: AbortSignal;
  /** One line of human output on stdout. */
  print(line: string): void;
  /** One JSON document on stdout, indented. */
  printJson(value: unknown): void;
  /** One JSON document on one line of stdout (a stream of results, one per object). */
  printJsonLine(value: unknown): void;
  /** One failure line on stderr (`code: subject: message`), for commands that keep going after a failure. */
  report(error: unknown, subject?: string): void;
}

export function createContext(services: Services, options: CliOptions, signal: AbortSignal): CommandContext {
  return {
    services,
    options,
    signal,
    print(line) {
      clearStatus();
      process.stdout.write(`${line}\n`);
    },
    printJson(value) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    printJsonLine(value) {
      clearStatus();
      process.stdout.write(`${JSON.stringify(value)}\n`);
    },
    report(error, subject) {
      printError(errorLine(error, subject));
    },
  };
}

/** Commands resolve to an exit status (0 = everything done); they throw for a failure that stops them outright. */
export type Command = (ctx: CommandContext, args: string[]) => Promise<number>;
