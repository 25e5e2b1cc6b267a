/// <reference lib="dom" />
/**
 * The rings panel: each ring this node joined (name, realm, since when),
 * and its other members with their path (`webrtc` when directly connected,
 * `connecting` while signaling through the mesh); on a gateway, also the
 * rings its browser clients are in (path `client`).
 *
 * @module
 */
import type { ConsoleRing } from "../src/console/protocol.ts";
import { html } from "./deps.ts";
import { ago, clock, shortId } from "./format.ts";

/** Rings and their members. */
export function Rings(props: { rings?: ConsoleRing[]; now: number }) {
  if (!props.rings) return html`<p class="muted">rings are not enabled on this node (WebRTC plug-ins)</p>`;
  if (!props.rings.length) return html`<p class="muted">in no ring, and no client of this node is</p>`;
  return html`${
    props.rings.map((r) =>
      html`
        <div class="ring" data-ring=${r.name}>
          <h3>${r.name} <span class="muted">${r.realm} · ${r.role === "gateway"
            ? "not joined here: members connected to this node"
            : html`joined <span title=${clock(r.joinedAt)}>${ago(r.joinedAt, props.now)}</span>`}</span></h3>
          ${r.members.length
            ? html`
              <table>
                <thead>
                  <tr>
                    <th>member</th>
                    <th>path</th>
                    <th>since</th>
                  </tr>
                </thead>
                <tbody>${r.members.map((m) =>
                  html`
                    <tr data-member=${m.id}>
                      <td><code title=${m.id}>${shortId(m.id)}</code></td>
                      <td><span class="badge ${m.path === "connecting" ? "suspect" : "alive"}">${m.path}</span></td>
                      <td class="muted" title=${m.since ? clock(m.since) : ""}>${m.since
                        ? ago(m.since, props.now)
                        : "–"}</td>
                    </tr>
                  `
                )}</tbody>
              </table>
            `
            : html`<p class="muted">alone in the ring</p>`}
        </div>
      `
    )
  }`;
}
