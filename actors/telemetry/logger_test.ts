import {
  deepStrictEqual as assertDeep,
  strictEqual as assertEquals,
} from "node:assert";
import { Actor, ActorSystem } from "../runtime/mod.ts";
import { captureConsole, createLogger, runtimeLogger } from "./logger.ts";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

Deno.test("logger json: one line per event with fields and the error", () => {
  const lines: string[] = [];
  const log = createLogger("agent", {
    format: "json",
    write: (l) => lines.push(l),
    now: () => 0,
  });
  log.error("kernel create failed", {
    kernelId: "k1",
    error: new TypeError("no image"),
  });
  log.debug("not written: below the default level");
  assertEquals(lines.length, 1);
  assertEquals(lines[0].includes("\n"), false);
  const e = JSON.parse(lines[0]);
  assertEquals(e.ts, "1970-01-01T00:00:00.000Z");
  assertDeep(
    [e.level, e.component, e.msg, e.kernelId],
    ["error", "agent", "kernel create failed", "k1"],
  );
  assertDeep([e.error.name, e.error.message], ["TypeError", "no image"]);
  assertEquals(e.trace_id, undefined); // no span, no traced message
});

Deno.test("logger human: the component: message line, fields as key=value", () => {
  const lines: string[] = [];
  const log = createLogger("manager", {
    format: "human",
    write: (l) => lines.push(l),
  });
  log.info("serving", { port: 8081, url: "http://x y" });
  assertEquals(lines[0], 'manager: serving port=8081 url="http://x y"');
});

Deno.test("logger json: trace and span ids of the message being handled", async () => {
  const lines: string[] = [];
  const log = createLogger("probe", {
    format: "json",
    write: (l) => lines.push(l),
  });
  class Probe extends Actor<string> {
    receive() {
      log.info("handling");
    }
  }
  const system = new ActorSystem();
  system.spawn(() => new Probe(), { name: "probe" });
  system.deliver("/user/probe", "hi", TP);
  await new Promise((r) => setTimeout(r, 10));
  const e = JSON.parse(lines[0]);
  assertEquals(e.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  assertEquals(e.span_id, "00f067aa0ba902b7");
  await system.shutdown();
});

Deno.test("captureConsole: console lines become JSON events; the human format changes nothing", () => {
  const seen: string[] = [];
  const saved = { log: console.log, error: console.error };
  console.log = (...a: unknown[]) => seen.push(a.join(" "));
  console.error = (...a: unknown[]) => seen.push(a.join(" "));
  try {
    const undoHuman = captureConsole("human");
    console.error("manager: plain");
    undoHuman();
    const undo = captureConsole("json");
    console.error("manager: serving on http://127.0.0.1:8081");
    console.error("gateway: unexpected failure", new Error("boom"));
    console.log({ a: 1 });
    undo();
  } finally {
    Object.assign(console, saved);
  }
  assertEquals(seen[0], "manager: plain");
  const [a, b, c] = seen.slice(1).map((l) => JSON.parse(l));
  assertDeep([a.level, a.component, a.msg], [
    "info",
    "manager",
    "serving on http://127.0.0.1:8081",
  ]);
  assertDeep([b.level, b.component, b.error.message], [
    "error",
    "gateway",
    "boom",
  ]);
  assertEquals(c.msg, "{ a: 1 }");
});

Deno.test("runtimeLogger: the runtime's hook writes through the logger", () => {
  const lines: string[] = [];
  const hook = runtimeLogger(
    createLogger("actors", { format: "json", write: (l) => lines.push(l) }),
  );
  hook("warn", "restart intensity exceeded", new Error("x"));
  const e = JSON.parse(lines[0]);
  assertDeep([e.level, e.msg, e.error.message], [
    "warn",
    "restart intensity exceeded",
    "x",
  ]);
});
