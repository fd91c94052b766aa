/**
 * Regressions of issue 18 against a real manager (embedded Postgres) and
 * one agent: refused requests leave no trace, and the admin edges answer
 * 4xx with their reason.
 *
 * - creates refused for NUL (and for a value the store refuses) hold no
 *   concurrent-session slot: the keypair can still start its maximum;
 * - 9,000-style floods of unknown access keys answer 401 and keep no actor;
 * - deactivating an unknown keypair is 404; deleting one that ran a session
 *   is 409 (its history is kept; deactivation is the way), a fresh one 204;
 * - `DELETE /x/admin/resource-policies/{name}`: 404 unknown, 409 while a
 *   keypair uses it or for `default`, 204 otherwise;
 * - slot caps are stored as numbers and enforced (`"1"` cpu: a second
 *   session is refused with 412);
 * - a create no agent could ever host answers 503 with the session's own
 *   reason, not only "ended in CANCELLED".
 */
import { startCluster } from "./support/cluster.ts";
import { signedFetch } from "../routes/cli/sign.ts";
import { assert, assertEquals } from "./support/assert.ts";

Deno.test({
  name:
    "edge (real manager): refused requests leave no slot, admin edges answer 4xx with reasons",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const c = await startCluster({
      agents: 1,
      agentArgs: () => ["--cpu", "8", "--mem", String(16 * 2 ** 30)],
    });
    try {
      await c.json("PUT", "/x/admin/resource-policies/two", {
        maxConcurrentSessions: 2,
      });
      const user = await c.newKeypair({
        resourcePolicy: "two",
        rateLimit: 100_000,
      });

      // Refused creates, more of them than the keypair has slots.
      for (let i = 0; i < 4; i++) {
        const res = await c.api("POST", "/session", {
          image: "python",
          name: `nul-${i}`,
          tag: "a\u0000b",
          config: { environ: { A: "\u0000" } },
        }, user);
        assertEquals(res.status, 400);
        await res.body?.cancel();
      }
      const tooBig = await c.api("POST", "/session", {
        image: "python",
        name: "big-tag",
        tag: "t".repeat(600_000),
        enqueueOnly: true,
      }, user);
      assert(tooBig.status < 500, `big tag: ${tooBig.status}`);
      await tooBig.body?.cancel();
      if (tooBig.status === 201) {
        await c.json("DELETE", "/session/big-tag", undefined, user);
      }
      // ... and still both slots: two sessions start.
      for (const name of ["slot-1", "slot-2"]) {
        const s = await c.json<{ status: string }>("POST", "/session", {
          image: "python",
          name,
        }, user);
        assertEquals(s.status, "RUNNING", name);
      }
      const third = await c.api("POST", "/session", {
        image: "python",
        name: "slot-3",
      }, user);
      assertEquals(third.status, 412, "the policy's limit still holds");
      await third.body?.cancel();

      // Unknown keys: 401s, and the manager keeps answering.
      for (let i = 0; i < 200; i++) {
        const res = await signedFetch(
          c.endpoint,
          {
            accessKey: `AKIAUNKNOWN${String(i).padStart(9, "0")}`,
            secretKey: "x".repeat(40),
          },
          "GET",
          "/session/x",
        );
        assertEquals(res.status, 401);
        await res.body?.cancel();
      }

      // Keypair edges.
      const deact = await c.api(
        "POST",
        "/x/admin/keypairs/AKIANOSUCHKEYPAIR000/deactivate",
      );
      assertEquals(deact.status, 404);
      await deact.body?.cancel();
      const del = await c.api("DELETE", `/x/admin/keypairs/${user.accessKey}`);
      assertEquals(del.status, 409);
      const delBody = await del.json();
      assertEquals(delBody.type, "https://api.backend.ai/probs/object-in-use");
      assert(String(delBody.msg).includes("deactivate"), delBody.msg);
      const fresh = await c.newKeypair({ resourcePolicy: "two" });
      const delFresh = await c.api(
        "DELETE",
        `/x/admin/keypairs/${fresh.accessKey}`,
      );
      assertEquals(delFresh.status, 204);

      // Resource policy deletes.
      const unknown = await c.api(
        "DELETE",
        "/x/admin/resource-policies/nosuch",
      );
      assertEquals(unknown.status, 404);
      await unknown.body?.cancel();
      const used = await c.api("DELETE", "/x/admin/resource-policies/two");
      assertEquals(used.status, 409);
      await used.body?.cancel();
      const dflt = await c.api("DELETE", "/x/admin/resource-policies/default");
      assertEquals(dflt.status, 409);
      await dflt.body?.cancel();
      await c.json("PUT", "/x/admin/resource-policies/spare", {});
      const spare = await c.api("DELETE", "/x/admin/resource-policies/spare");
      assertEquals(spare.status, 204);
      const left = await c.json<{ resourcePolicies: { name: string }[] }>(
        "GET",
        "/x/admin/resource-policies",
      );
      assert(!left.resourcePolicies.some((p) => p.name === "spare"));

      // Caps as numbers, enforced.
      const capped = await c.json<
        { totalResourceSlots: Record<string, unknown> }
      >(
        "PUT",
        "/x/admin/resource-policies/onecpu",
        { totalResourceSlots: { cpu: "1", mem: "4g" } },
      );
      assertEquals(capped.totalResourceSlots, { cpu: 1, mem: 4 * 2 ** 30 });
      const small = await c.newKeypair({ resourcePolicy: "onecpu" });
      const first = await c.json<{ status: string }>("POST", "/session", {
        image: "python",
        name: "cap-1",
      }, small);
      assertEquals(first.status, "RUNNING");
      const second = await c.api("POST", "/session", {
        image: "python",
        name: "cap-2",
      }, small);
      assertEquals(second.status, 412);
      await second.body?.cancel();

      // No agent could host it: 503 with the real reason.
      const huge = await c.api("POST", "/session", {
        image: "python",
        name: "huge-1",
        config: { resources: { cpu: 64 } },
      });
      assertEquals(huge.status, 503);
      const hugeBody = await huge.json();
      assertEquals(
        hugeBody.type,
        "https://api.backend.ai/probs/instance-not-available",
      );
      assert(
        !/^session ended in/.test(String(hugeBody.msg)),
        `the reason: ${hugeBody.msg}`,
      );

      // Stopping an agent the autoscaler did not start is refused, and
      // refusing it costs nothing: a run in flight meanwhile finishes (a
      // dozen of these used to escalate to a restart of the manager's tree,
      // which lost every in-flight run).
      const slow = await c.json<{ result: { runId: string; status: string } }>(
        "POST",
        "/session/slot-1",
        {
          mode: "query",
          code: "import time; time.sleep(3); print('done')",
          runId: null,
        },
        user,
      );
      for (let i = 0; i < 12; i++) {
        const stop = await c.api("POST", `/x/admin/agents/nosuch-${i}/stop`);
        assertEquals(stop.status, 400);
        await stop.body?.cancel();
      }
      let r = slow.result;
      let out = "";
      for (let i = 0; i < 20 && r.status !== "finished"; i++) {
        const next = await c.json<
          {
            result: {
              runId: string;
              status: string;
              console: [string, string][];
            };
          }
        >("POST", "/session/slot-1", {
          mode: "continue",
          code: "",
          runId: r.runId,
        }, user);
        r = next.result;
        out += next.result.console.map(([, t]) => t).join("");
      }
      assert(out.includes("done"), `the run finished: ${out}`);

      // Traversal is no image.
      const trav = await c.api("POST", "/session", {
        image: "../../python",
        name: "trav-1",
      });
      assertEquals(trav.status, 400);
      await trav.body?.cancel();
    } finally {
      await c.stop();
    }
  },
});
