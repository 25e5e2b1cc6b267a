/** Test helper: membership figures from `macula start --log-format json` output. */

/** One parsed log line. */
export type LogEntry = Record<string, unknown>;

/** Entries with message `msg` (and, if given, about `did`). */
export function logged(logs: LogEntry[], msg: string, did?: string): LogEntry[] {
  return logs.filter((l) => l.msg === msg && (did === undefined || l.did === did));
}

/** The log line's own timestamp, ms since epoch. */
export function time(entry: LogEntry): number {
  return Date.parse(String(entry.time));
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
}

/** Has every node logged every other one up? */
export function fullMembership(nodes: Array<{ logs: LogEntry[]; did: string }>): boolean {
  return nodes.every((a) => nodes.every((b) => a === b || logged(a.logs, "cluster member up", b.did).length > 0));
}

/**
 * Time to full membership: for each node, when it had logged every other
 * node up, measured from when the last node started clustering; and how
 * long the last node itself took to learn everyone.
 */
export function formationFigures(nodes: Array<{ logs: LogEntry[]; did: string }>) {
  const started = nodes.map((n) => time(logged(n.logs, "clustering started")[0]));
  const lastStart = Math.max(...started);
  const full = nodes.map((a) =>
    Math.max(...nodes.filter((b) => b !== a).map((b) => time(logged(a.logs, "cluster member up", b.did)[0])))
  );
  const last = started.indexOf(lastStart);
  return {
    afterLast: full.map((f) => f - lastStart),
    joinOfLast: full[last] - started[last],
    startSpread: lastStart - Math.min(...started),
  };
}
