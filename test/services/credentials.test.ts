import { describe, expect, it } from "vitest";
import { readBearer, readCookie, readCredentials } from "../../src/services/credentials.js";

describe("readCredentials: one reader for every front door", () => {
  it("reads the admin key from the header first, else from the cookie (percent-decoded)", () => {
    expect(readCredentials({ headers: { "x-admin-key": "k1", cookie: "glider_admin_key=k2" } }).adminKey).toBe("k1");
    expect(readCredentials({ headers: { cookie: "a=b; glider_admin_key=k%3D2" } }).adminKey).toBe("k=2");
  });

  it("treats malformed %-encoding in a cookie as absent, without throwing", () => {
    const headers = { cookie: "glider_admin_key=%E0%A4%A; glider_session=%" };
    expect(() => readCredentials({ headers })).not.toThrow();
    const credentials = readCredentials({ headers });
    expect(credentials.adminKey).toBeUndefined();
    expect(credentials.sessionId).toBeUndefined();
    expect(readCookie("glider_session=%zz", "glider_session")).toBeUndefined();
  });

  it("keeps `=` inside a cookie value and ignores cookies with other names", () => {
    expect(readCookie("x_glider_session=no; glider_session=ab==", "glider_session")).toBe("ab==");
    expect(readCookie(["a=1", "glider_session=s"], "glider_session")).toBe("s");
    expect(readCookie(undefined, "glider_session")).toBeUndefined();
  });

  it("reads a bearer token whatever the scheme's case, and nothing else", () => {
    expect(readBearer("Bearer gst_a.b")).toBe("gst_a.b");
    expect(readBearer("bearer gst_a.b ")).toBe("gst_a.b");
    expect(readBearer("Basic abc")).toBeUndefined();
    expect(readBearer("Bearer")).toBeUndefined();
    expect(readBearer(["Bearer one", "Bearer two"])).toBe("one");
    expect(readCredentials({ headers: { authorization: "Bearer t", "user-agent": "ua" } })).toEqual({
      adminKey: undefined,
      bearer: "t",
      sessionId: undefined,
      userAgent: "ua",
    });
  });
});
