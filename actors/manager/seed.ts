/**
 * First-start seeding: the admin keypair (from ADMIN_ACCESS_KEY /
 * ADMIN_SECRET_KEY, else generated, printed once and saved under the data
 * dir) and the cluster secret.
 *
 * @module
 */

import type { Store } from "./store/mod.ts";
import type { ManagerConfig } from "./config.ts";

export async function seedAdmin(
  store: Store,
  config: ManagerConfig,
): Promise<{ accessKey: string; secretKey: string }> {
  const file = `${config.dataDir}/admin.keypair`;
  if (config.adminAccessKey && config.adminSecretKey) {
    const { adminAccessKey: accessKey, adminSecretKey: secretKey } = config;
    if (accessKey.length !== 20 || secretKey.length !== 40) {
      throw new Error(
        "ADMIN_ACCESS_KEY must be 20 characters and ADMIN_SECRET_KEY 40",
      );
    }
    const existing = await store.keypairs.get(accessKey);
    if (!existing) {
      await store.keypairs.create({
        accessKey,
        secretKey,
        userId: "admin",
        isAdmin: true,
        rateLimit: config.rateLimit,
      });
    }
    return { accessKey, secretKey };
  }
  try {
    const saved = JSON.parse(await Deno.readTextFile(file)) as {
      accessKey: string;
      secretKey: string;
    };
    if (await store.keypairs.get(saved.accessKey)) return saved;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) && !(e instanceof SyntaxError)) {
      throw e;
    }
  }
  const kp = await store.keypairs.create({
    userId: "admin",
    isAdmin: true,
    rateLimit: config.rateLimit,
  });
  const saved = { accessKey: kp.accessKey, secretKey: kp.secretKey };
  await Deno.writeTextFile(file, JSON.stringify(saved) + "\n", { mode: 0o600 });
  console.error(
    `manager: created the admin keypair (shown once, saved in ${file}):\n` +
      `  access key: ${kp.accessKey}\n  secret key: ${kp.secretKey}`,
  );
  return saved;
}

/** The cluster secret saved at `file`, created (256 random bits) on first use. */
export async function loadOrCreateSecret(file: string): Promise<string> {
  try {
    const s = (await Deno.readTextFile(file)).trim();
    if (s) return s;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const secret = crypto.getRandomValues(new Uint8Array(32)).toHex();
  await Deno.writeTextFile(file, secret + "\n", { mode: 0o600 });
  return secret;
}
