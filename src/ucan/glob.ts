/**
 * Glob patterns of the policy language's `like`: `*` matches any run of
 * characters (including none); `\*` is a literal `*` and `\\` a literal
 * backslash; every other character, a lone backslash included, is literal.
 *
 * @module
 */

/** A compiled glob: the literal pieces between the wildcards (one more piece than wildcards). */
export type Glob = readonly string[];

/**
 * Compile `pattern` into its literal pieces.
 *
 * @example
 * ```ts
 * import { compileGlob } from "./glob.ts";
 * compileGlob("Alice\\*, Bob*, Carol."); // ["Alice*, Bob", ", Carol."]
 * ```
 */
export function compileGlob(pattern: string): Glob {
  const pieces: string[] = [];
  let current = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && (pattern[i + 1] === "*" || pattern[i + 1] === "\\")) {
      current += pattern[++i];
    } else if (c === "*") {
      pieces.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  pieces.push(current);
  return pieces;
}

/**
 * Whether `text` matches the compiled glob `pieces`: it starts with the
 * first piece, ends with the last, and holds the others in order between.
 *
 * @example
 * ```ts
 * import { compileGlob, globMatches } from "./glob.ts";
 * globMatches(compileGlob("*@example.com"), "bob@example.com"); // true
 * globMatches(compileGlob("*@example.com"), "bob@example.org"); // false
 * ```
 */
export function globMatches(pieces: Glob, text: string): boolean {
  if (pieces.length === 1) return text === pieces[0];
  const first = pieces[0];
  const last = pieces[pieces.length - 1];
  if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const found = text.indexOf(pieces[i], at);
    if (found < 0 || found + pieces[i].length > end) return false;
    at = found + pieces[i].length;
  }
  return true;
}
