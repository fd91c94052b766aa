// Node.js query-mode driver (images/runner/bai_proc.py ReplDriver, cmdPipe):
// one persistent node process; each line "TOKEN FILE" on fd $BAI_CMD_FD runs
// FILE in this process's global context, so declarations persist between
// cells. Like the node REPL, a cell's last expression value is shown; a
// returned promise is awaited. stdin (fd 0) stays free for user code:
// the global input(prompt) reads one line with a blocking read, which the
// runner notices and answers through `waiting-input`.
"use strict";
const fs = require("fs");
const vm = require("vm");
const util = require("util");
const readline = require("readline");

globalThis.require = require;
globalThis.module = module;
globalThis.exports = exports;

/** Reads one line from fd 0 (blocking); null at EOF. */
globalThis.input = function input(prompt = "") {
  if (prompt) fs.writeSync(1, String(prompt));
  const one = Buffer.alloc(1);
  const bytes = [];
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, one, 0, 1, null);
    } catch (e) {
      if (e.code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        continue;
      }
      throw e;
    }
    if (n === 0) return bytes.length ? Buffer.from(bytes).toString() : null;
    if (one[0] === 10) return Buffer.from(bytes).toString();
    bytes.push(one[0]);
  }
};

let cells = 0;

async function runCell(file) {
  const code = fs.readFileSync(file, "utf8");
  cells += 1;
  try {
    let value = vm.runInThisContext(code, { filename: `cell-${cells}.js` });
    if (value && typeof value.then === "function") value = await value;
    if (value !== undefined) {
      fs.writeSync(1, util.inspect(value, { colors: false }) + "\n");
    }
    return 0;
  } catch (e) {
    const text = e && e.stack ? e.stack : String(e);
    fs.writeSync(
      2,
      (e instanceof SyntaxError ? "SyntaxError: " + e.message : text) + "\n",
    );
    return 1;
  }
}

const cmds = readline.createInterface({
  input: fs.createReadStream(null, { fd: Number(process.env.BAI_CMD_FD) }),
});
let chain = Promise.resolve();
cmds.on("line", (line) => {
  const sp = line.indexOf(" ");
  const token = line.slice(0, sp);
  const file = line.slice(sp + 1);
  chain = chain.then(async () => {
    const rc = await runCell(file);
    // Let timers/callbacks queued by the cell print first.
    await new Promise((r) => setImmediate(r));
    fs.writeSync(1, `${token}${rc}\n`);
    fs.writeSync(2, token);
  });
});
cmds.on("close", () => process.exit(0));
process.on("uncaughtException", (e) => {
  fs.writeSync(2, (e && e.stack ? e.stack : String(e)) + "\n");
});
