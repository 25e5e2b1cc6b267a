/**
 * Test helper: run the `macula` CLI (`runCli` of src/cli/main.ts) in this
 * process, with the real platform except for the process facilities: the
 * environment, stdin, stdout and stderr are the test's. Much faster than a
 * child process per command; permission behaviour is tested with children.
 */
import { runCli } from "../../src/cli/main.ts";
import { currentPlatform } from "../../src/platform/current.ts";
import type { Platform } from "../../src/platform/types.ts";

/** What a command did. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `macula <args>` in process; `env` is all the environment it sees, `stdin` its input. */
export async function cli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const base = currentPlatform();
  let stdout = "";
  let stderr = "";
  const platform: Platform = {
    ...base,
    process: {
      ...base.process,
      env: (name) => options.env?.[name],
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      stdin: () => new Blob([options.stdin ?? ""]).stream(),
      writeStdout: (data) => Promise.resolve(void (stdout += new TextDecoder().decode(data))),
      isTerminal: () => false,
      onShutdownSignal: () => () => {},
      args,
    },
  };
  const code = await runCli(args, platform);
  return { code, stdout, stderr };
}
