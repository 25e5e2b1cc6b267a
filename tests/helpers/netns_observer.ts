/**
 * Runs inside the observer namespace of a `NetnsLab`: answers JSON-line
 * requests on stdin with JSON lines on stdout.
 *
 * - `{id, op: "ping"}` → `{id}`
 * - `{id, op: "get", url, token?}` → `{id, status, body}` or `{id, error}` (`token`: the console token, sent as a bearer)
 * - `{id, op: "send", hostname, port, data}` (base64) → `{id}`
 * - `{id, op: "capture", group, port, count, ms}` → `{id, data: [base64…]}`
 */
const out = (value: unknown): void =>
  void Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(value) + "\n"));
// Bound to the observer's address: multicast then leaves through its interface (there is no multicast route).
const self = Deno.args[0] ?? "10.77.0.254";
const sender = Deno.listenDatagram({ transport: "udp", hostname: self, port: 0 });
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

async function capture(group: string, port: number, count: number, ms: number): Promise<string[]> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: group, port, reuseAddress: true });
  await socket.joinMulticastV4(group, self);
  const got: string[] = [];
  const timer = setTimeout(() => socket.close(), ms);
  try {
    while (got.length < count) got.push(b64((await socket.receive())[0]));
  } catch {
    // closed by the timer
  } finally {
    clearTimeout(timer);
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
  return got;
}

async function handle(req: Record<string, unknown>): Promise<void> {
  const id = req.id;
  try {
    switch (req.op) {
      case "ping":
        return out({ id });
      case "get": {
        const headers: Record<string, string> = req.token ? { authorization: `Bearer ${req.token}` } : {};
        const res = await fetch(String(req.url), { headers, signal: AbortSignal.timeout(5000) });
        return out({ id, status: res.status, body: await res.text() });
      }
      case "send": {
        const data = Uint8Array.from(atob(String(req.data)), (c) => c.charCodeAt(0));
        await sender.send(data, { transport: "udp", hostname: String(req.hostname), port: Number(req.port) });
        return out({ id });
      }
      case "capture":
        return out({
          id,
          data: await capture(String(req.group), Number(req.port), Number(req.count), Number(req.ms)),
        });
      default:
        return out({ id, error: `unknown op ${req.op}` });
    }
  } catch (error) {
    out({ id, error: (error as Error).message });
  }
}

let buffer = "";
for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffer += text;
  const lines = buffer.split("\n");
  buffer = lines.pop()!;
  for (const line of lines) if (line.trim()) handle(JSON.parse(line));
}
Deno.exit(0);
