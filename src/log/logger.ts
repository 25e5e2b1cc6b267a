/**
 * Structured logging: human-readable text by default, one JSON object per
 * line with `format: "json"`.
 *
 * @module
 */

/** Severity levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Output formats. */
export type LogFormat = "text" | "json";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Extra structured fields of a log line. `undefined` values are left out,
 * an `Error` is written as its message and a bigint as a string.
 */
export type LogFields = Record<string, unknown>;

/**
 * A logger writing lines to a sink.
 *
 * @example
 * ```ts
 * import { Logger } from "./logger.ts";
 * const log = new Logger({ format: "json", sink: (line) => console.error(line) });
 * log.info("node started", { port: 9443 });
 * ```
 */
export class Logger {
  /** How lines are written: `text` (default) or `json` (one object per line). */
  readonly format: LogFormat;
  /** The lowest level written (default `info`); lower ones are dropped. */
  readonly level: LogLevel;
  #sink: (line: string) => void;
  #context: LogFields;

  /**
   * Build a logger. Defaults: `text` format, level `info`, lines written
   * with `console.error` (stderr), no context fields.
   *
   * @param options.format Output format.
   * @param options.level The lowest level written.
   * @param options.sink Receives each line, without a trailing newline.
   * @param options.context Fields added to every line.
   */
  constructor(
    options: { format?: LogFormat; level?: LogLevel; sink?: (line: string) => void; context?: LogFields } = {},
  ) {
    this.format = options.format ?? "text";
    this.level = options.level ?? "info";
    this.#sink = options.sink ?? ((line) => console.error(line));
    this.#context = options.context ?? {};
  }

  /** A logger that drops everything. */
  static silent(): Logger {
    return new Logger({ level: "error", sink: () => {} });
  }

  /** A logger with the same format, level and sink that adds `context` to every line (over this one's fields). */
  child(context: LogFields): Logger {
    return new Logger({
      format: this.format,
      level: this.level,
      sink: this.#sink,
      context: { ...this.#context, ...context },
    });
  }

  /** Log `message` at level `debug`, with optional structured `fields`. */
  debug(message: string, fields?: LogFields): void {
    this.#log("debug", message, fields);
  }

  /** Log `message` at level `info`, with optional structured `fields`. */
  info(message: string, fields?: LogFields): void {
    this.#log("info", message, fields);
  }

  /** Log `message` at level `warn`, with optional structured `fields`. */
  warn(message: string, fields?: LogFields): void {
    this.#log("warn", message, fields);
  }

  /** Log `message` at level `error`, with optional structured `fields`. */
  error(message: string, fields?: LogFields): void {
    this.#log("error", message, fields);
  }

  #log(level: LogLevel, message: string, fields?: LogFields): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const all = { ...this.#context, ...fields };
    const time = new Date().toISOString();
    if (this.format === "json") {
      // Core keys come first and win over fields of the same name; bigints become strings.
      const { time: _t, level: _l, msg: _m, ...rest } = normalise(all);
      this.#sink(JSON.stringify({ time, level, msg: message, ...rest }, jsonSafe));
      return;
    }
    const extra = Object.entries(normalise(all))
      .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v, jsonSafe)}`)
      .join(" ");
    this.#sink(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra ? " " + extra : ""}`);
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function normalise(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = v instanceof Error ? v.message : typeof v === "bigint" ? v.toString() : v;
  }
  return out;
}
