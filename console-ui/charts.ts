/// <reference lib="dom" />
/**
 * The charts of the last minutes (uPlot): messages/s, bytes/s, open
 * connections and RSS, one point a second from the snapshot's `series`.
 *
 * @module
 */
import type { ConsoleSeries } from "../src/console/protocol.ts";
import { html, uPlot, useEffect, useRef } from "./deps.ts";
import { bytes, rate } from "./format.ts";

/** One time-series chart that follows its container's width. */
function Chart(props: { title: string; t: number[]; values: number[]; format: (v: number) => string; color: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [props.t.map((t) => t / 1000), props.values];
  useEffect(() => {
    const el = box.current!;
    const fmt = (v: number | null) => (v === null ? "–" : props.format(v));
    plot.current = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height: 130,
        legend: { show: false },
        cursor: { y: false },
        scales: { x: { time: true } },
        axes: [
          {
            stroke: "#8a94a6",
            space: 70,
            grid: { stroke: "#2a3140", width: 1 },
            ticks: { show: false },
            values: (_u: uPlot, vals: number[]) => vals.map((v) => new Date(v * 1000).toTimeString().slice(0, 8)),
          },
          {
            stroke: "#8a94a6",
            size: 64,
            grid: { stroke: "#2a3140", width: 1 },
            ticks: { show: false },
            values: (_u: uPlot, vals: number[]) => vals.map(fmt),
          },
        ],
        series: [{}, { label: props.title, stroke: props.color, fill: props.color + "33", width: 1.5 }],
      },
      data(),
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 130 })
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => plot.current?.setData(data()), [props.t, props.values]);
  const last = props.values.at(-1);
  return html`
    <figure class="chart">
      <figcaption>${props.title} <b>${last === undefined ? "–" : props.format(last)}</b></figcaption>
      <div ref=${box}></div>
    </figure>
  `;
}

/** The four charts. */
export function Charts(props: { series: ConsoleSeries }) {
  const s = props.series;
  return html`
    <div class="charts">
      <${Chart} title="messages/s" t=${s.t} values=${s.msgs} format=${rate} color="#4fc3f7" />
      <${Chart} title="bytes/s" t=${s.t} values=${s.bytes} format=${(v: number) => bytes(v) + "/s"} color="#81c784" />
      <${Chart} title="connections" t=${s.t} values=${s.connections} format=${(v: number) =>
        v.toFixed(0)} color="#ffb74d" />
      <${Chart} title="RSS" t=${s.t} values=${s.rss} format=${bytes} color="#ba68c8" />
    </div>
  `;
}
