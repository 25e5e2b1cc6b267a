/// <reference lib="dom" />
/**
 * The console page: opens the node's event stream (`/console/events`,
 * Server-Sent Events, one `snapshot` a second) and renders every snapshot.
 *
 * @module
 */
import type { ConsoleSnapshot } from "../src/console/protocol.ts";
import { html, render, useEffect, useState } from "./deps.ts";
import { MeshGraph } from "./graph.ts";
import { Charts } from "./charts.ts";
import { Actions } from "./actions.ts";
import { Apps, Card, Content, Identity, Members, Realms } from "./panels.ts";
import { Rings } from "./rings.ts";
import { shortId } from "./format.ts";

/** The protocol version this page understands. */
const PROTOCOL = 1;

type Link = "connecting" | "live" | "reconnecting" | "closed";

/** Follow the event stream: the latest snapshot and the state of the link. */
function useSnapshots(): { snapshot: ConsoleSnapshot | null; link: Link } {
  const [snapshot, setSnapshot] = useState<ConsoleSnapshot | null>(null);
  const [link, setLink] = useState<Link>("connecting");
  useEffect(() => {
    const source = new EventSource("/console/events");
    source.addEventListener("snapshot", (e) => {
      setSnapshot(JSON.parse((e as MessageEvent).data));
      setLink("live");
    });
    source.onerror = () => setLink(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    return () => source.close();
  }, []);
  return { snapshot, link };
}

function App() {
  const { snapshot: s, link } = useSnapshots();
  const [picked, setPicked] = useState<string | undefined>(undefined);
  if (!s) {
    return html`
      <header><h1>Macula</h1><span class="link ${link}" id="link">${link}</span></header>
      <main>
        <p class="muted">${link === "closed"
          ? "The node refused the event stream: open the console with the token the node printed at start."
          : "Waiting for the node…"}</p>
      </main>
    `;
  }
  document.title = `Macula · ${shortId(s.node.id)}`;
  return html`
    <header>
          <h1>Macula</h1>
          <code class="self" title=${s.node.id}>${shortId(s.node.id)}</code>
          <span class="link ${link}" id="link" data-at=${s.at}>${link}</span>
          ${s.v !== PROTOCOL ? html`<span class="warn">protocol v${s.v}, page v${PROTOCOL}</span>` : ""}
          ${s.readonly ? html`<span class="badge">read-only</span>` : ""}
        </header>
    <main class="grid">
      <${Card} title="Mesh" id="mesh" wide>
        <${MeshGraph} snapshot=${s} onPick=${setPicked} />
        <//>
        <${Card} title="Activity" id="charts" wide>
          <${Charts} series=${s.series} />
          <//>
          <${Card} title="Node" id="node">
            <${Identity} node=${s.node} />
            <//>
            <${Card} title="Membership" id="members">
              <${Members} members=${s.members} now=${s.at} />
              <//>
              <${Card} title="Realms" id="realms">
                <${Realms} realms=${s.realms} />
                <//>
                <${Card} title="Actions" id="actions">
                  <${Actions} snapshot=${s} picked=${picked} />
                  <//>
                  <${Card} title="Content" id="content">
                    <${Content} content=${s.content} />
                    <//>
                    <${Card} title="Apps" id="apps">
                      <${Apps} apps=${s.apps} now=${s.at} />
                      <//>
                      <${Card} title="Rings" id="rings">
                        <${Rings} rings=${s.rings} now=${s.at} />
                        <//>
                        </main>
  `;
}

render(html`<${App} />`, document.getElementById("app")!);
