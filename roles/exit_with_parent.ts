/**
 * The child processes of `deno task start` (its agent and storage node) go
 * when their parent goes, however it died (a kill -9 included). Otherwise
 * an orphan of a killed cluster would keep dialing a manager that is not
 * coming back, and hold its kernels' streams or its storage port beside the
 * next start's. `BAI_EXIT_WITH_PARENT` names the parent's pid; the agent's
 * containers are left for the next start to re-adopt.
 *
 * @module
 */

/** Exits once the parent named by `raw` (a pid) is no longer this process's parent. */
export function exitWithParent(raw: string | undefined, name: string): void {
  const parent = Number(raw);
  if (!raw || !Number.isInteger(parent) || parent <= 1) return;
  const timer = setInterval(() => {
    if (Deno.ppid !== parent) {
      console.error(`${name}: its parent (pid ${parent}) is gone; exiting`);
      Deno.exit(0);
    }
  }, 500);
  Deno.unrefTimer(timer);
}
