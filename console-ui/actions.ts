/// <reference lib="dom" />
/**
 * The actions (hidden when the node is read-only): ping a peer, publish a
 * test message, call a procedure. Each posts a `ConsoleAction` as JSON to
 * `/console/actions/<kind>` (same origin: the cookie carries the token) and
 * shows the `ConsoleActionResult`.
 *
 * @module
 */
import type { ConsoleAction, ConsoleActionResult, ConsoleSnapshot } from "../src/console/protocol.ts";
import { html, useState } from "./deps.ts";
import { shortId } from "./format.ts";

/** Post one action; a network failure or a non-JSON answer becomes an `{ ok: false }` result. */
export async function postAction(action: ConsoleAction): Promise<ConsoleActionResult> {
  try {
    const res = await fetch(`/console/actions/${action.kind}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(action),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as ConsoleActionResult;
    } catch {
      return { ok: false, error: `${res.status} ${text.slice(0, 200)}`, code: `HTTP_${res.status}` };
    }
  } catch (error) {
    return { ok: false, error: String((error as Error).message ?? error), code: "E_NETWORK" };
  }
}

/** The form field values (all strings, as typed). */
interface Fields {
  peer: string;
  realm: string;
  topic: string;
  payload: string;
  procedure: string;
  args: string;
}

/** The actions card. `picked` is a peer chosen in the graph. */
export function Actions(props: { snapshot: ConsoleSnapshot; picked?: string }) {
  const s = props.snapshot;
  const [f, setF] = useState<Fields>({
    peer: "",
    realm: "",
    topic: "console.test",
    payload: "hello from the console",
    procedure: "",
    args: "{}",
  });
  const [result, setResult] = useState<{ what: string; r: ConsoleActionResult } | null>(null);
  const [busy, setBusy] = useState(false);
  if (s.readonly) return html`<p class="muted">read-only console: actions are off</p>`;
  const set = (k: keyof Fields) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const peer = f.peer || props.picked || s.peers.find((p) => p.connected)?.id || "";
  const realm = f.realm || undefined;
  const run = async (what: string, action: () => ConsoleAction) => {
    let a: ConsoleAction;
    try {
      a = action();
    } catch (error) {
      setResult({ what, r: { ok: false, error: (error as Error).message, code: "E_INPUT" } });
      return;
    }
    setBusy(true);
    setResult({ what, r: await postAction(a) });
    setBusy(false);
  };
  const submit = (what: string, action: () => ConsoleAction) => (e: Event) => {
    e.preventDefault();
    run(what, action);
  };
  const realms = s.node.realms;
  const realmSelect = html`<select name="realm" value=${f.realm} onChange=${set("realm")}>
    <option value="">default realm</option>
    ${realms.map((r) => html`<option value=${r}>${r}</option>`)}
  </select>`;
  return html`<div class="actions">
    <form id="action-ping" onSubmit=${submit("ping", () => ({ kind: "ping", peer }))}>
      <label>peer <select name="peer" value=${peer} onChange=${set("peer")}>
        ${s.peers.filter((p) => p.connected).map((p) => html`<option value=${p.id}>${shortId(p.id)}</option>`)}
      </select></label>
      <button disabled=${busy || !peer}>ping</button>
    </form>
    <form id="action-publish" onSubmit=${
    submit("publish", () => ({ kind: "publish", realm, topic: f.topic, payload: f.payload }))
  }>
      ${realmSelect}
      <input name="topic" placeholder="topic" value=${f.topic} onInput=${set("topic")} required />
      <input name="payload" placeholder="payload" value=${f.payload} onInput=${set("payload")} />
      <button disabled=${busy}>publish</button>
    </form>
    <form id="action-call" onSubmit=${
    submit("call", () => ({ kind: "call", realm, procedure: f.procedure, args: JSON.parse(f.args || "null") }))
  }>
      ${realmSelect}
      <input name="procedure" placeholder="procedure" list="procedures" value=${f.procedure}
        onInput=${set("procedure")} required />
      <datalist id="procedures">${
    s.realms.flatMap((r) => r.procedures).map((p) => html`<option value=${p.procedure} />`)
  }</datalist>
      <input name="args" placeholder="arguments (JSON)" value=${f.args} onInput=${set("args")} />
      <button disabled=${busy}>call</button>
    </form>
    ${
    result && html`<pre class=${result.r.ok ? "result ok" : "result error"} data-action=${result.what}>${
      result.r.ok
        ? `${result.what}: ${JSON.stringify(result.r.result, null, 2)}`
        : `${result.what} failed (${result.r.code}): ${result.r.error}`
    }</pre>`
  }
  </div>`;
}
