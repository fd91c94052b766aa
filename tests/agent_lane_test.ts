/**
 * The runner protocol on the kernel's own unix socket (actors/agent/kernel/
 * lane.ts, images/runner/bai_lane.py), against the real engine and the
 * python kernel image: the frames go over the socket, not the attached
 * stdio; the socket takes one connection (the runner's) and its dir is
 * read-only inside; when the agent lets go (as a crashed agent does) the
 * runner goes back to its stdio, where a new agent's re-attach finds it
 * with its state.
 *
 * Needs the python image (the test stub runner speaks stdio only).
 */
import assert from "node:assert/strict";
import { KernelConnection } from "../actors/agent/kernel/mod.ts";
import {
  agentTestEnv,
  dockerSkipReason,
  runCode,
} from "./fixtures/agent_docker.ts";
import { imageMissing } from "./support/images.ts";

const IMAGE = "bai/python:3.11-bookworm";
const MiB = 2 ** 20;
const skip = dockerSkipReason ?? (await imageMissing("python")) ?? null;
if (skip) console.error(`agent_lane_test: skipped: ${skip}`);

/** What kind of file each of the runner's fds is (sockets, pipes, /dev/null). */
const FDS = `
import os
kinds = []
for f in sorted(map(int, os.listdir('/proc/self/fd'))):
    try: kinds.append(os.readlink('/proc/self/fd/%d' % f).split(':')[0])
    except OSError: pass  # listdir's own
print(kinds.count('socket'), os.environ.get('BAI_LANE'))
`;

Deno.test({
  name:
    "lane: frames go over the kernel's socket; one connection, read-only; the runner returns to stdio when its agent lets go",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  await using env = await agentTestEnv();
  const k = await env.launcher.launch({
    image: IMAGE,
    kernelId: "k-lane",
    sessionId: "s-lane",
    slots: { cpu: 1, mem: 256 * MiB },
  });

  await t.step("the runner speaks over its socket", async () => {
    assert.equal(k.connection.onLane, true);
    const out = await runCode(k.connection, FDS);
    assert.equal(out.stdout, "2 /run/bai/runner.sock\n"); // its read and write ends
    // Frames written to the container's stdout are not the protocol now.
    const junk = await runCode(
      k.connection,
      "import os, struct\nos.write(4, struct.pack('>I', 8) + b'{\"ev\":1}')\nprint('still here')",
    );
    assert.equal(junk.stdout, "still here\n");
  });

  await t.step(
    "a second connection is closed at once; the dir is read-only",
    async () => {
      const out = await runCode(
        k.connection,
        [
          "import os, socket",
          "with socket.socket(socket.AF_UNIX) as s:",
          "    s.settimeout(5)",
          "    s.connect('/run/bai/runner.sock')",
          "    try:",
          "        s.sendall(b'\\x00\\x00\\x00\\x02{}')",
          "        print('closed' if s.recv(100) == b'' else 'answered')",
          "    except (BrokenPipeError, ConnectionResetError):",
          "        print('closed')",
          "for f in (lambda: open('/run/bai/x', 'w'), lambda: os.unlink('/run/bai/runner.sock')):",
          "    try: f(); print('writable')",
          "    except OSError as e: print(e.strerror)",
        ].join("\n"),
      );
      assert.equal(
        out.stdout,
        "closed\nRead-only file system\nRead-only file system\n",
        out.stderr,
      );
      assert.equal(
        (await runCode(k.connection, "print(6 * 7)")).stdout,
        "42\n",
      );
    },
  );

  await t.step(
    "its agent gone, a re-attach finds it on stdio, state kept",
    async () => {
      await runCode(k.connection, "kept = 'yes'");
      k.connection.dispose(); // the socket, its listener and the attach close
      const again = await KernelConnection.reattach(
        await env.docker.attach(k.containerId),
      );
      try {
        assert.equal(again.onLane, false);
        const out = await runCode(again, "print(kept)\n" + FDS);
        assert.equal(out.stdout, "yes\n0 /run/bai/runner.sock\n");
      } finally {
        await env.launcher.destroy({ ...k, connection: again });
      }
    },
  );
});
