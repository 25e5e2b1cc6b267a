/**
 * Topics and subscription patterns. A topic is dot-separated segments of
 * `A-Z a-z 0-9 _ -` (e.g. `sensors.kitchen.temperature`). A pattern may use
 * `*` for exactly one segment and a trailing `>` for one or more remaining
 * segments (`sensors.*.temperature`, `sensors.>`).
 *
 * @module
 */
import { MaculaError } from "../util/errors.ts";

/** Most segments in a topic or pattern. */
export const MAX_SEGMENTS = 16;
/** Longest topic or pattern. */
export const MAX_TOPIC_LENGTH = 255;

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** A malformed topic or pattern. */
export class TopicError extends MaculaError {
  /** `message` says what is wrong with the topic or pattern. */
  constructor(message: string) {
    super("E_TOPIC_INVALID", message);
  }
}

function segments(text: string, what: string): string[] {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_TOPIC_LENGTH) {
    throw new TopicError(`${what} must be 1-${MAX_TOPIC_LENGTH} characters`);
  }
  const parts = text.split(".");
  if (parts.length > MAX_SEGMENTS) {
    throw new TopicError(`${what} ${JSON.stringify(text)} has more than ${MAX_SEGMENTS} segments`);
  }
  return parts;
}

const validTopics = new Set<string>();

/** Check a concrete topic (no wildcards); returns it or throws `TopicError`. */
export function validateTopic(topic: string): string {
  if (validTopics.has(topic)) return topic;
  for (const s of segments(topic, "topic")) {
    if (!SEGMENT.test(s)) {
      throw new TopicError(
        `invalid topic ${JSON.stringify(topic)}: segments are 1-64 of A-Z a-z 0-9 _ - separated by dots (no wildcards)`,
      );
    }
  }
  if (validTopics.size >= 4096) validTopics.clear();
  validTopics.add(topic);
  return topic;
}

/** Check a pattern (`*` = one segment, trailing `>` = the rest); returns it or throws `TopicError`. */
export function validatePattern(pattern: string): string {
  const parts = segments(pattern, "pattern");
  parts.forEach((s, i) => {
    if (s === "*" || SEGMENT.test(s)) return;
    if (s === ">" && i === parts.length - 1) return;
    throw new TopicError(
      `invalid pattern ${
        JSON.stringify(pattern)
      }: use segments of A-Z a-z 0-9 _ -, "*" for one segment, ">" last for the rest`,
    );
  });
  return pattern;
}

/**
 * Does `pattern` match `topic`?
 *
 * @example
 * ```ts
 * import { matches } from "./topic.ts";
 * matches("sensors.*.temp", "sensors.kitchen.temp"); // true
 * matches("sensors.>", "sensors.kitchen.temp");      // true
 * matches("sensors.>", "sensors");                   // false
 * ```
 */
export function matches(pattern: string, topic: string): boolean {
  const p = pattern.split(".");
  const t = topic.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== "*" && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/** The DHT directory root of a pattern: its first segment, or `*` when that is a wildcard. */
export function rootOf(pattern: string): string {
  const first = pattern.split(".")[0];
  return first === "*" || first === ">" ? "*" : first;
}
