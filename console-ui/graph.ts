/// <reference lib="dom" />
/**
 * The mesh as a graph: this node in the centre, its peers (and the cluster
 * members it knows) around it, laid out by d3-force. An edge is solid for a
 * direct connection and dashed for a relayed one (drawn from the relay when
 * the relay is in the graph, and named in the label); its label is the
 * transport and the last RTT. Each peer is a `<g data-peer-id="did:key:…"
 * data-state="…">` so tests and scripts can find it.
 *
 * @module
 */
import type { ConsoleSnapshot } from "../src/console/protocol.ts";
import { forceCollide, forceLink, forceManyBody, forceSimulation, html, useMemo, useRef } from "./deps.ts";
import { ms, shortId } from "./format.ts";

const W = 640;
const H = 400;
const MARGIN = 36;

/** A node of the layout (d3-force adds and moves `x`/`y`). */
interface LayoutNode {
  id: string;
  x?: number;
  y?: number;
  vx?: number;
  vy?: number;
  fx?: number | null;
  fy?: number | null;
}

/** What the graph draws, derived from one snapshot. */
export interface GraphModel {
  self: string;
  nodes: { id: string; state: string; connected: boolean }[];
  edges: { from: string; to: string; relayed: boolean; label: string; via?: string }[];
}

/**
 * The graph's nodes and edges from a snapshot. A node's state is its
 * membership state when clustering knows it ("alive", "suspect", "dead"),
 * otherwise "connected" or "disconnected".
 */
export function graphModel(s: ConsoleSnapshot): GraphModel {
  const self = s.node.id;
  const ids = new Set<string>();
  for (const p of s.peers) if (p.id !== self) ids.add(p.id);
  for (const m of s.members) if (m.id !== self) ids.add(m.id);
  const nodes = [...ids].sort().map((id) => {
    const peer = s.peers.find((p) => p.id === id);
    const member = s.members.find((m) => m.id === id);
    const connected = peer?.connected ?? false;
    return { id, connected, state: member?.state ?? (connected ? "connected" : "disconnected") };
  });
  const edges = s.peers.filter((p) => p.connected && p.id !== self).map((p) => {
    const relayed = p.path === "relayed";
    const from = relayed && p.via && ids.has(p.via) ? p.via : self;
    const label = [p.transport, ms(p.rtt), relayed && p.via ? `via ${shortId(p.via)}` : ""].filter(Boolean).join(" ");
    return { from, to: p.id, relayed, label, via: p.via };
  });
  return { self, nodes, edges };
}

/** Positions for `model`, keeping the ones `previous` already had so nodes do not jump between snapshots. */
function layout(model: GraphModel, previous: Map<string, LayoutNode>): Map<string, LayoutNode> {
  const centre: LayoutNode = { id: model.self, x: W / 2, y: H / 2, fx: W / 2, fy: H / 2 };
  const nodes: LayoutNode[] = [centre];
  model.nodes.forEach((n, i) => {
    const old = previous.get(n.id);
    const angle = (2 * Math.PI * i) / Math.max(1, model.nodes.length);
    nodes.push(
      old ? { id: n.id, x: old.x, y: old.y } : {
        id: n.id,
        x: W / 2 + 150 * Math.cos(angle),
        y: H / 2 + 120 * Math.sin(angle),
      },
    );
  });
  const links = model.nodes.map((n) => ({ source: model.self, target: n.id }));
  const sim = forceSimulation(nodes)
    .force("link", forceLink(links).id((d: LayoutNode) => d.id).distance(Math.min(170, 60 + 18 * nodes.length)))
    .force("charge", forceManyBody().strength(-500))
    .force("collide", forceCollide(46))
    .stop();
  sim.tick(previous.size ? 60 : 200);
  const out = new Map<string, LayoutNode>();
  for (const n of nodes) {
    n.x = Math.min(W - MARGIN * 2, Math.max(MARGIN * 2, n.x ?? W / 2));
    n.y = Math.min(H - MARGIN, Math.max(MARGIN, n.y ?? H / 2));
    out.set(n.id, n);
  }
  return out;
}

/** The graph panel. `onPick` gets a peer's id when it is clicked. */
export function MeshGraph(props: { snapshot: ConsoleSnapshot; onPick?: (id: string) => void }) {
  const model = graphModel(props.snapshot);
  const positions = useRef(new Map<string, LayoutNode>());
  const key = [model.self, ...model.nodes.map((n) => n.id)].join(",");
  const pos = useMemo(() => (positions.current = layout(model, positions.current)), [key]);
  const at = (id: string) => pos.get(id) ?? { x: W / 2, y: H / 2 };
  return html`
    <svg class="graph" viewBox="0 0 ${W} ${H}" role="img" aria-label="mesh graph">
      <g class="edges">
        ${model.edges.map((e) => {
          const a = at(e.from), b = at(e.to);
          return html`
            <g class=${e.relayed ? "edge relayed" : "edge direct"} data-edge=${e.to}>
              <line x1=${a.x} y1=${a.y} x2=${b.x} y2=${b.y} />
              <text x=${(a.x ?? 0) * 0.4 + (b.x ?? 0) * 0.6} y=${(a.y ?? 0) * 0.4 + (b.y ?? 0) * 0.6 - 4}>${e
                .label}</text>
            </g>
          `;
        })}
      </g>
      <g class="nodes">
        <g class="node self" data-node-id=${model.self} transform="translate(${W / 2} ${H / 2})">
          <circle r="18" />
          <text y="34">this node</text>
          <title>${model.self}</title>
        </g>
        ${model.nodes.map((n) => {
          const p = at(n.id);
          return html`
            <g class="node peer ${n.state}" data-peer-id=${n.id} data-state=${n.state}
              data-connected=${String(n.connected)} transform="translate(${p.x} ${p.y})"
              onClick=${() => props.onPick?.(n.id)}>
              <circle r="13" />
              <text y="28">${shortId(n.id)}</text>
              <title>${n.id} (${n.state})</title>
            </g>
          `;
        })}
      </g>
    </svg>
    <p class="legend">
      <span class="key direct"></span> direct <span class="key relayed"></span> relayed
      · ${model.nodes.length} peer${model.nodes.length === 1 ? "" : "s"}
    </p>
  `;
}
