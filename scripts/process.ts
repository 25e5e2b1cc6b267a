/**
 * Child-process helpers shared by the test helpers and the scripts (the
 * network-namespace lab and the soak).
 *
 * @module
 */

/** Run a command, feeding `stdin` if given; resolve with its stdout, reject with its stderr if it fails. */
export async function sh(cmd: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Call `onLine` for each line of a byte stream until it ends (a last line without a newline included). */
export async function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  let buffer = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffer += text;
    const lines = buffer.split("\n");
    buffer = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  if (buffer) onLine(buffer);
}

/**
 * The first line a child process prints on `stream` (e.g. its addresses as
 * JSON); the rest is drained in the background so the child never blocks on
 * a full pipe. Rejects with `"<what> exited before printing a line"`.
 */
export async function firstLine(stream: ReadableStream<Uint8Array>, what: string): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${what} exited before printing a line`);
    text += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return text.slice(0, text.indexOf("\n"));
}
