import type { Resources } from "./env.js";
import type { Row } from "./report.js";

/** One benchmark part: `npm run bench:<name>`. */
export interface Part {
  name: string;
  /** One line for `--help` and the results file. */
  describe: string;
  /** Measures and returns its rows; everything it starts goes into `resources`, released by the runner. */
  run(resources: Resources): Promise<Row[]>;
}
