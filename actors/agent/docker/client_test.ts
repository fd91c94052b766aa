import assert from "node:assert/strict";
import { DockerClient, minVersion } from "./client.ts";
import { DockerUnavailableError } from "./errors.ts";

Deno.test("minVersion picks the lower API version", () => {
  assert.equal(minVersion("1.43", "1.41"), "1.41");
  assert.equal(minVersion("1.40", "1.41"), "1.40");
  assert.equal(minVersion("1.9", "1.41"), "1.9");
});

Deno.test("connect to a missing socket throws DockerUnavailableError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      DockerClient.connect({ socketPath: `${dir}/nope.sock` }),
      (e) =>
        e instanceof DockerUnavailableError &&
        e.socketPath === `${dir}/nope.sock`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
