/**
 * Prints `{name: {bytes, sha256}}` of every dashboard asset as the manager
 * would serve it (tests/ui/assets_test.ts runs this under a fresh DENO_DIR).
 */
import { createHash } from "node:crypto";
import { ASSETS } from "../../routes/ui/assets.ts";

const out: Record<string, { bytes: number; sha256: string }> = {};
for (const [name, a] of ASSETS) {
  out[name] = {
    bytes: a.body.byteLength,
    sha256: createHash("sha256").update(a.body).digest("hex"),
  };
}
console.log(JSON.stringify(out));
