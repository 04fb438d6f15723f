/** A tiny browser-like client for the Commander's calls: JSON bodies, one cookie jar, `credentials: "include"`. */
export class CommanderClient {
  cookie: string | undefined;
  lastSetCookie: string | undefined;

  constructor(readonly base: string) {}

  async call(method: string, path: string, body?: unknown, init: { form?: FormData; cookie?: boolean } = {}) {
    const headers: Record<string, string> = {};
    if (this.cookie && init.cookie !== false) headers.cookie = this.cookie;
    let payload: BodyInit | undefined;
    if (init.form) payload = init.form;
    else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body: payload });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) {
      this.lastSetCookie = setCookie;
      const [pair] = setCookie.split(";");
      this.cookie = /=\s*$/.test(pair) ? undefined : pair;
    }
    const type = res.headers.get("content-type") ?? "";
    const json = type.includes("json") ? await res.json() : undefined;
    return { status: res.status, body: json as Record<string, unknown> & { error?: { code: string } }, res };
  }

  login(credentials: Record<string, unknown>) {
    return this.call("POST", "/api/auth/session", { credentials });
  }
}
