import { EventEmitter, once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";

/** What the proxy does to a request whose request line matches a rule. */
export type FaultAction =
  /** Keep its bytes (and everything after them on that connection) until `release()`, then deliver them. */
  | "hold"
  /** Reset both sides at once (the client sees ECONNRESET). */
  | "reset"
  /** Forward the request, and `bytes` of the answer, then stop sending the answer (until `release()`). */
  | { stallAnswerAfter: number }
  /** Forward the request, and `bytes` of the answer, then reset the connection. */
  | { resetAnswerAfter: number };

interface Connection {
  client: Socket;
  upstream: Socket;
  /** Client bytes held back from the store. */
  heldUp: Buffer[] | undefined;
  /** Answer bytes held back from the client, once `stallAnswerAfter` tripped. */
  heldDown: Buffer[] | undefined;
  /** Answer bytes still allowed before the rule trips. */
  answerBudget: number | undefined;
  answerAction: "stall" | "reset" | undefined;
  clientGone: boolean;
}

/**
 * A TCP proxy between Glider and a real S3 server (s3rver) that misbehaves on command: holds requests (a stalled
 * store that still commits what it received once it resumes), resets connections, stalls or cuts answers mid-body,
 * throttles answers. Plain node:net, 127.0.0.1, a free port. Emits "matched" with the request line on every rule hit.
 */
export class FaultProxy extends EventEmitter {
  private server: Server;
  private connections = new Set<Connection>();
  private rules: { match: RegExp; action: FaultAction; times: number }[] = [];
  private bytesPerSecond: number | undefined;
  port = 0;

  private constructor(private readonly upstreamPort: number) {
    super();
    this.server = createServer((client) => this.accept(client));
  }

  static async start(upstreamEndpoint: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(Number(new URL(upstreamEndpoint).port));
    proxy.server.listen(0, "127.0.0.1");
    await once(proxy.server, "listening");
    const address = proxy.server.address();
    if (!address || typeof address === "string") throw new Error("no address");
    proxy.port = address.port;
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Applies `action` to the next `times` requests whose request line (e.g. `PUT /bucket/key HTTP/1.1`) matches. */
  rule(match: RegExp, action: FaultAction, times = Number.POSITIVE_INFINITY): this {
    this.rules.push({ match, action, times });
    return this;
  }

  /** Resolves with the request line of the next rule hit. */
  async nextMatch(): Promise<string> {
    const [line] = await once(this, "matched");
    return line as string;
  }

  /** Removes every rule and delivers everything held, in order (a resumed store processes what it had received). */
  release(): void {
    this.rules = [];
    for (const c of this.connections) {
      if (c.heldUp) {
        const held = c.heldUp;
        c.heldUp = undefined;
        for (const chunk of held) c.upstream.write(chunk);
        if (c.clientGone) c.upstream.end();
      }
      if (c.heldDown) {
        const held = c.heldDown;
        c.heldDown = undefined;
        c.answerBudget = undefined;
        for (const chunk of held) if (!c.client.destroyed) c.client.write(chunk);
      }
    }
  }

  /** Limits answer bytes per second on every connection (undefined: no limit). */
  throttle(bytesPerSecond: number | undefined): void {
    this.bytesPerSecond = bytesPerSecond;
  }

  async close(): Promise<void> {
    for (const c of this.connections) {
      c.client.destroy();
      c.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private ruleFor(chunk: Buffer) {
    const line = chunk.subarray(0, Math.min(chunk.length, 2048)).toString("latin1").split("\r\n")[0];
    if (!/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(line)) return undefined;
    const rule = this.rules.find((r) => r.times > 0 && r.match.test(line));
    if (!rule) return undefined;
    rule.times--;
    return { rule, line };
  }

  private accept(client: Socket) {
    const upstream = connect(this.upstreamPort, "127.0.0.1");
    const c: Connection = {
      client,
      upstream,
      heldUp: undefined,
      heldDown: undefined,
      answerBudget: undefined,
      answerAction: undefined,
      clientGone: false,
    };
    this.connections.add(c);
    client.on("data", (chunk: Buffer) => {
      if (c.heldUp) {
        c.heldUp.push(chunk);
        return;
      }
      const hit = this.ruleFor(chunk);
      if (hit) {
        const { action } = hit.rule;
        if (action === "hold") c.heldUp = [chunk];
        else if (action === "reset") {
          client.resetAndDestroy();
          upstream.destroy();
        } else if ("stallAnswerAfter" in action) {
          c.answerBudget = action.stallAnswerAfter;
          c.answerAction = "stall";
        } else {
          c.answerBudget = action.resetAnswerAfter;
          c.answerAction = "reset";
        }
        this.emit("matched", hit.line);
        if (action === "hold" || action === "reset") return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => this.down(c, chunk));
    client.on("close", () => {
      c.clientGone = true;
      // Held bytes stay until release(): the store still gets them, like a stalled server reading its socket later.
      if (!c.heldUp) upstream.end();
    });
    client.on("error", () => undefined);
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => {
      if (!c.heldDown) client.destroy();
      this.connections.delete(c);
    });
  }

  private down(c: Connection, chunk: Buffer) {
    if (c.heldDown) {
      c.heldDown.push(chunk);
      return;
    }
    if (c.answerBudget !== undefined) {
      if (chunk.length > c.answerBudget) {
        const allowed = chunk.subarray(0, c.answerBudget);
        const rest = chunk.subarray(c.answerBudget);
        if (allowed.length) c.client.write(allowed);
        if (c.answerAction === "reset") {
          c.client.resetAndDestroy();
          c.upstream.destroy();
        } else {
          c.heldDown = [rest];
        }
        return;
      }
      c.answerBudget -= chunk.length;
    }
    if (this.bytesPerSecond) {
      c.upstream.pause();
      setTimeout(() => c.upstream.resume(), Math.ceil((chunk.length / this.bytesPerSecond) * 1000));
    }
    if (!c.client.destroyed) c.client.write(chunk);
  }
}
