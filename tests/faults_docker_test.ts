/**
 * Fault: the Docker engine restarts under a running agent (issue 18 "Faults
 * to survive"). Opt-in (`BAI_TEST_DOCKER_RESTART=1`): it runs a private
 * `dockerd` (own socket, data and exec roots; tests/support/private_docker.ts)
 * so the shared engine other tests use is never touched, copies the python
 * image into it, and points a real agent at it with `--docker-socket`.
 *
 * Asserts: the agent notices the engine going away and reports its kernel's
 * fate (the session ends with a reason naming it, or keeps running with its
 * state when the kernel survived), the agent stays ALIVE, and a new session
 * starts and runs once the engine is back.
 */
import { startCluster } from "./support/cluster.ts";
import { hasDockerd, startPrivateDocker } from "./support/private_docker.ts";
import { eventually } from "./support/eventually.ts";
import { assert, assertEquals } from "./support/assert.ts";
import { recipeRef } from "../images/recipe.ts";
import { RECIPES } from "../images/catalog.ts";

const OPT_IN = Deno.env.get("BAI_TEST_DOCKER_RESTART") === "1";

interface Info {
  status: string;
  statusInfo: string | null;
}

Deno.test({
  name: OPT_IN
    ? "fault: the Docker engine restarts under an agent: kernels' fate reported, new sessions served"
    : "fault: Docker engine restart (skipped: set BAI_TEST_DOCKER_RESTART=1; it runs a private dockerd, about a minute)",
  ignore: !OPT_IN || !hasDockerd(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const engine = await startPrivateDocker();
    const c = await startCluster({ agents: 0 });
    try {
      await engine.load(recipeRef(RECIPES.get("python")!));
      // A warm pool too: its idle container dies with the engine as well.
      const agent = await c.startAgent(undefined, [
        "--docker-socket",
        engine.socket,
        "--pool",
        "1",
      ]);
      const run = async (name: string, code: string) =>
        await c.json<{ result: { console: [string, string][] } }>(
          "POST",
          `/session/${name}`,
          { mode: "query", code, runId: null },
        );
      const created = await c.json<{ status: string }>("POST", "/session", {
        image: "python",
        name: "dk-before",
      });
      assertEquals(created.status, "RUNNING");
      await run("dk-before", "x = 7");

      await engine.stop();
      await new Promise((r) => setTimeout(r, 2000));
      await engine.start();

      // The kernel's fate is reported: ended with a reason, or still there.
      const fate = await eventually("the kernel's fate", async () => {
        const s = await c.json<Info>("GET", "/session/dk-before");
        if (s.status === "RUNNING") {
          const r = await run("dk-before", "print(x)").catch(() => undefined);
          return r?.result.console.some(([, t]) => t === "7\n") ? s : undefined;
        }
        return ["TERMINATED", "ERROR", "CANCELLED"].includes(s.status)
          ? s
          : undefined;
      }, 90_000);
      console.log(
        `docker restart: the old session is ${fate.status} (${fate.statusInfo})`,
      );
      if (fate.status !== "RUNNING") {
        assert(fate.statusInfo, "an ended session carries its reason");
      }

      await c.waitAgent(agent.id);
      const again = await c.json<{ status: string }>("POST", "/session", {
        image: "python",
        name: "dk-after",
      });
      assertEquals(again.status, "RUNNING");
      const r = await run("dk-after", "print(6 * 7)");
      assertEquals(r.result.console, [["stdout", "42\n"]]);
    } finally {
      await c.stop();
      await engine.destroy();
    }
  },
});
