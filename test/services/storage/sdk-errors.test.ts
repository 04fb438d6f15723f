import { NoSuchKey, S3ServiceException } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { errorName, httpStatusOf } from "../../../src/services/storage/sdk-errors.js";

describe("reading an SDK failure without casts", () => {
  it("reads the name and status of a modelled S3 error", () => {
    const error = new NoSuchKey({ message: "gone", $metadata: { httpStatusCode: 404 } });
    expect(errorName(error)).toBe("NoSuchKey");
    expect(httpStatusOf(error)).toBe(404);
  });

  it("reads a bare HEAD 404 (an unmodelled service exception)", () => {
    const error = new S3ServiceException({ name: "NotFound", $fault: "client", $metadata: { httpStatusCode: 404 } });
    expect(errorName(error)).toBe("NotFound");
    expect(httpStatusOf(error)).toBe(404);
  });

  it("answers nothing for values that are not SDK answers", () => {
    for (const value of [
      undefined,
      null,
      "NoSuchKey",
      404,
      { name: 7 },
      { $metadata: null },
      { $metadata: { httpStatusCode: "404" } },
    ]) {
      expect(errorName(value)).toBe("");
      expect(httpStatusOf(value)).toBeUndefined();
    }
    expect(errorName(new TypeError("fetch failed"))).toBe("TypeError");
    expect(httpStatusOf(Object.assign(new Error("aborted"), { name: "AbortError" }))).toBeUndefined();
  });
});
