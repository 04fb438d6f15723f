// bench:cli: runs a probe bundle (argv[2]) with the code cache, exactly as bin/glider.js runs the CLI's bundle.
import { runBundle } from "../../bin/run-bundle.js";

runBundle(process.argv[2]);
