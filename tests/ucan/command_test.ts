/** UCAN commands: validation and segment-wise proving (no prefix confusion). */
import { assert, assertThrows } from "../helpers/assert.ts";
import { commandProves, InvalidCommandError, MAX_COMMAND_LENGTH, validateCommand } from "../../src/ucan/mod.ts";

Deno.test("ucan command: valid commands pass", () => {
  for (const cmd of ["/", "/macula", "/macula/pubsub/publish", "/crud/create", "/ほげ/ふが", "/a-b_c.d"]) {
    validateCommand(cmd);
  }
  validateCommand("/" + "a".repeat(MAX_COMMAND_LENGTH - 1));
});

Deno.test("ucan command: invalid commands throw InvalidCommandError with a reason", () => {
  const cases: [unknown, string][] = [
    ["", "1-"],
    ["macula", "start with /"],
    ["/macula/", "ends with /"],
    ["//macula", "empty segment"],
    ["/macula//pubsub", "empty segment"],
    ["/Macula", "lowercase"],
    ["/macula pubsub", "whitespace"],
    ["/macula\u0000", "control"],
    ["/" + "a".repeat(MAX_COMMAND_LENGTH), "1-"],
    [42, "string"],
  ];
  for (const [cmd, why] of cases) {
    const e = assertThrows(() => validateCommand(cmd as string), InvalidCommandError, why);
    assert((e as InvalidCommandError).code === "E_UCAN_INVALID_COMMAND");
  }
});

Deno.test("ucan command: a command proves itself and whole-segment descendants only", () => {
  assert(commandProves("/", "/"));
  assert(commandProves("/", "/macula/pubsub/publish"));
  assert(commandProves("/macula", "/macula"));
  assert(commandProves("/macula/pubsub", "/macula/pubsub/publish"));
  assert(commandProves("/macula", "/macula/rpc/call"));
  assert(!commandProves("/macula/pubsub", "/macula/pubsubx"), "prefix confusion");
  assert(!commandProves("/a/pub", "/a/publish"), "prefix confusion");
  assert(!commandProves("/macula/pubsub/publish", "/macula/pubsub"), "a child does not prove its parent");
  assert(!commandProves("/macula/pubsub", "/macula/rpc"));
  assert(!commandProves("/macula/pubsub", "/"));
});
