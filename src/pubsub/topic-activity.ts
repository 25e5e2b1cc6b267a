/**
 * Per-topic message counts of one node (published here + received here),
 * for the console's rates. Bounded: the least recently active topic is
 * forgotten first.
 *
 * @module
 */

/** One topic's count. */
export interface TopicCount {
  /** The realm. */
  realm: string;
  /** The topic. */
  topic: string;
  /** Messages published or received here since the topic was first seen (or since it was forgotten). */
  messages: number;
}

/**
 * Message counts by (realm, topic), at most `max` topics.
 *
 * @example
 * ```ts
 * import { TopicActivity } from "./topic-activity.ts";
 * const activity = new TopicActivity(2);
 * activity.note("home", "a");
 * activity.note("home", "a");
 * activity.list(); // [{ realm: "home", topic: "a", messages: 2 }]
 * ```
 */
export class TopicActivity {
  #counts = new Map<string, TopicCount>();
  #max: number;

  /** Keep at most `max` topics (default 256). */
  constructor(max = 256) {
    this.#max = max;
  }

  /** Count one message on `topic` in `realm`. */
  note(realm: string, topic: string): void {
    const key = `${realm}|${topic}`;
    const entry = this.#counts.get(key);
    if (entry) {
      entry.messages++;
      this.#counts.delete(key); // most recently active last
      this.#counts.set(key, entry);
      return;
    }
    if (this.#counts.size >= this.#max) this.#counts.delete(this.#counts.keys().next().value!);
    this.#counts.set(key, { realm, topic, messages: 1 });
  }

  /** The counts, least recently active first (copies). */
  list(): TopicCount[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }
}
