/**
 * The single entry point. `deno task ROLE [flags]` runs `main.ts ROLE`:
 *
 * - `start`   manager + one local agent + embedded Postgres (the default)
 * - `manager` the HTTP gateway, store and manager actors
 * - `agent`   an agent node dialing a manager (`--manager ws://HOST:PORT`)
 * - `storage` a storage node (vfolder hosts, uploads, downloads)
 * - `images`  build kernel images (`images build python bash c`, `--all`)
 * - `cli`     a small signed-request client for the API
 *
 * Each role lives in its own module, loaded only when chosen, so a role's
 * dependencies (Docker, Postgres) are not touched by the others.
 *
 * @module
 */

const roles: Record<
  string,
  { help: string; load: () => Promise<{ run(args: string[]): Promise<void> }> }
> = {
  start: {
    help: "manager + local agent + embedded Postgres",
    load: () => import("./roles/start.ts"),
  },
  manager: {
    help: "the manager node (gateway, store, scheduler)",
    load: () => import("./roles/manager.ts"),
  },
  agent: {
    help: "an agent node: --manager ws://HOST:PORT",
    load: () => import("./roles/agent.ts"),
  },
  storage: {
    help: "a storage node (vfolders): --manager ws://HOST:PORT",
    load: () => import("./roles/storage.ts"),
  },
  images: {
    help: "build kernel images: images build NAME... | --all",
    load: () => import("./images/build.ts").then((m) => ({ run: m.runCli })),
  },
  cli: {
    help: "our client: cli run -c CODE, ps, upload, download, METHOD PATH",
    load: () => import("./routes/cli/mod.ts"),
  },
};

function usage(): string {
  const lines = Object.entries(roles).map(([name, r]) =>
    `  ${name.padEnd(8)} ${r.help}`
  );
  return `usage: deno task ROLE [flags]\n\nroles:\n${lines.join("\n")}`;
}

if (import.meta.main) {
  const [role, ...rest] = Deno.args;
  const entry = role ? roles[role] : undefined;
  if (!entry) {
    console.error(role ? `unknown role "${role}"\n\n${usage()}` : usage());
    Deno.exit(2);
  }
  let mod: { run(args: string[]): Promise<void> };
  try {
    mod = await entry.load();
  } catch (error) {
    if (error instanceof TypeError && /Module not found/.test(String(error))) {
      console.error(`role "${role}" is not implemented yet`);
      Deno.exit(3);
    }
    throw error;
  }
  await mod.run(rest);
}
