import { builder } from "./builder.js";
import "./health.js";
import "./stored-object.js";
import "./bucket.js";
import "./download.js";
import "./savings.js";

export const schema = builder.toSchema({ sortSchema: true });
