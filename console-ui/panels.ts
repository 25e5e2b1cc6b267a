/// <reference lib="dom" />
/**
 * The page's tables: node identity, cluster membership, realms (topics and
 * procedures), content (store, quota, transfers) and admitted apps.
 *
 * @module
 */
import type { ConsoleApp, ConsoleContent, ConsoleMember, ConsoleNode, ConsoleRealm } from "../src/console/protocol.ts";
import { html, useState } from "./deps.ts";
import { ago, bytes, clock, duration, rate, shortId } from "./format.ts";

/** A titled card. */
export function Card(props: { title: string; id: string; wide?: boolean; children?: unknown }) {
  return html`<section class=${props.wide ? "card wide" : "card"} id=${props.id}>
    <h2>${props.title}</h2>
    ${props.children}
  </section>`;
}

/** A short id with the full one as a tooltip. */
function Id(props: { id: string }) {
  return html`<code title=${props.id}>${shortId(props.id)}</code>`;
}

/** Node identity: id with a copy button, addresses, reachability, NAT type, version, uptime. */
export function Identity(props: { node: ConsoleNode }) {
  const n = props.node;
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(n.id);
    } catch {
      // Not a secure context (plain http off loopback): select the text so the user can copy it.
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("node-id")!);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const list = (xs: string[]) => xs.length ? xs.map((x) => html`<code class="addr">${x}</code>`) : "–";
  return html`
    <dl class="identity">
      <dt>id</dt>
      <dd class="id-row"><code id="node-id">${n.id}</code>
          <button type="button" class="copy" onClick=${copy}>${copied ? "copied" : "copy"}</button></dd>
      <dt>addresses</dt>
      <dd>${list(n.addrs)}</dd>
      <dt>observed</dt>
      <dd>${list(n.observedAddrs)}</dd>
      <dt>reachability</dt>
      <dd>${n.reachability}</dd>
      <dt>NAT type</dt>
      <dd>${n.natType}</dd>
      <dt>relays</dt>
      <dd>${n.relays.length
        ? n.relays.map((r) =>
          html`
            <${Id} id=${r} />
          `
        )
        : "–"}</dd>
      <dt>realms</dt>
      <dd>${n.realms.join(", ") || "–"}</dd>
      <dt>version</dt>
      <dd>${n.version} <span class="muted">(${n.runtime})</span></dd>
      <dt>uptime</dt>
      <dd>${duration(n.uptime)}</dd>
    </dl>
  `;
}

/** Cluster membership: alive / suspect / dead and the time of the last change. */
export function Members(props: { members: ConsoleMember[]; now: number }) {
  if (!props.members.length) return html`<p class="muted">clustering is off or no member seen yet</p>`;
  const order = { alive: 0, suspect: 1, dead: 2 };
  const rows = [...props.members].sort((a, b) => order[a.state] - order[b.state] || a.id.localeCompare(b.id));
  return html`
    <table>
      <thead>
        <tr>
          <th>member</th>
          <th>state</th>
          <th>since</th>
        </tr>
      </thead>
      <tbody>${rows.map((m) =>
        html`
          <tr data-member-id=${m.id} data-state=${m.state}>
            <td>
              <${Id} id=${m.id} />
            </td>
            <td><span class="badge ${m.state}">${m.state}</span></td>
            <td title=${clock(m.changed)}>${ago(m.changed, props.now)}</td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}

/** Realms: topics (subscribers, msg/s) and procedures (providers, calls/s). */
export function Realms(props: { realms: ConsoleRealm[] }) {
  if (!props.realms.length) return html`<p class="muted">no realm</p>`;
  return props.realms.map((r) =>
    html`
      <div class="realm" data-realm=${r.name}>
        <h3>${r.name}</h3>
        <table>
          <thead>
            <tr>
              <th>topic</th>
              <th class="num">subscribers</th>
              <th class="num">msg/s</th>
            </tr>
          </thead>
          <tbody>${r.topics.length
            ? r.topics.map((t) =>
              html`
                <tr data-topic=${t.topic}>
                  <td><code>${t.topic}</code></td>
                  <td class="num">${t.subscribers}</td>
                  <td class="num rate" data-rate=${t.rate}>${rate(t.rate)}</td>
                </tr>
              `
            )
            : html`
              <tr>
                <td colspan="3" class="muted">no topic</td>
              </tr>
            `}</tbody>
        </table>
        <table>
          <thead>
            <tr>
              <th>procedure</th>
              <th>providers</th>
              <th class="num">calls/s</th>
            </tr>
          </thead>
          <tbody>${r.procedures.length
            ? r.procedures.map((p) =>
              html`
                <tr data-procedure=${p.procedure}>
                  <td><code>${p.procedure}</code></td>
                  <td>${p.providers.length} ${p.providers.slice(0, 3).map((id) =>
                    html`
                      <${Id} id=${id} />
                    `
                  )}</td>
                  <td class="num rate" data-rate=${p.rate}>${rate(p.rate)}</td>
                </tr>
              `
            )
            : html`
              <tr>
                <td colspan="3" class="muted">no procedure</td>
              </tr>
            `}</tbody>
        </table>
      </div>
    `
  );
}

/** A bar filled to `value / max`. */
function Bar(props: { value: number; max: number; label: string }) {
  const pct = props.max > 0 ? Math.min(100, (100 * props.value) / props.max) : 0;
  return html`<div class="bar" role="progressbar" aria-valuenow=${props.value} aria-valuemax=${props.max}>
    <div class="fill" style=${`width:${pct.toFixed(1)}%`}></div><span>${props.label}</span>
  </div>`;
}

/** Content: quota use, the store's entries with pins, transfers in progress. */
export function Content(props: { content?: ConsoleContent }) {
  const c = props.content;
  if (!c) return html`<p class="muted">the content service is not running on this node</p>`;
  return html`
    <${Bar} value=${c.used} max=${c.quota} label=${`${bytes(c.used)} of ${bytes(c.quota)} used`} />
    ${c.transfers.length
      ? html`<h3>transfers</h3>${
        c.transfers.map((t) =>
          html`<div class="transfer" data-mcid=${t.mcid}>
            <${Id} id=${t.mcid} /> <span class="muted">${`${t.providers} provider${t.providers === 1 ? "" : "s"}, ${
            bytes(t.rate)
          }/s`}</span>
            <${Bar} value=${t.received} max=${t.size} label=${`${bytes(t.received)} / ${bytes(t.size)}`} />
          </div>`
        )
      }`
      : ""}
    <table>
      <thead>
        <tr>
          <th>entry</th>
          <th class="num">size</th>
          <th>state</th>
        </tr>
      </thead>
      <tbody>${c.entries.length
        ? c.entries.map((e) =>
          html`
            <tr data-mcid=${e.mcid}>
              <td>
                <${Id} id=${e.mcid} />
              </td>
              <td class="num">${bytes(e.size)}</td>
              <td>${e.pinned
                ? html`
                  <span class="badge pinned">pinned</span>
                `
                : ""}${e.complete ? "complete" : `${bytes(e.bytes)} held`}</td>
            </tr>
          `
        )
        : html`
          <tr>
            <td colspan="3" class="muted">the store is empty</td>
          </tr>
        `}</tbody>
    </table>
  `;
}

/** Admitted apps and their health. */
export function Apps(props: { apps?: ConsoleApp[]; now: number }) {
  if (!props.apps) return html`<p class="muted">the apps service is not running on this node</p>`;
  if (!props.apps.length) return html`<p class="muted">no app admitted</p>`;
  return html`
    <table>
      <thead>
        <tr>
          <th>app</th>
          <th>capabilities</th>
          <th>health</th>
        </tr>
      </thead>
      <tbody>${props.apps.map((a) =>
        html`
          <tr data-app=${a.identity}>
            <td>
              <${Id} id=${a.identity} />
            </td>
            <td>${a.capabilities.join(", ") || "–"}</td>
            <td><span class="badge ${a.health === "healthy" ? "alive" : "suspect"}">${a.health}</span>
                    ${a.checked
                      ? html`<span class="muted" title=${clock(a.checked)}> ${ago(a.checked, props.now)}</span>`
                      : ""}
                  </td>
          </tr>
        `
      )}</tbody>
    </table>
  `;
}
