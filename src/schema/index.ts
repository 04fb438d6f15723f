import { builder } from "./builder.js";
import "./errors.js";
import "./health.js";
import "./stored-object.js";
import "./bucket.js";
import "./download.js";
import "./savings.js";
import "./transfer.js";
import "./token.js";

export const schema = builder.toSchema({ sortSchema: true });
