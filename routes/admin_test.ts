/**
 * `/x/admin` (admin.ts) over real HTTP against the stand-in: admin
 * keypairs only, a keypair's secret shown once, validated input, and an
 * admin acting for another keypair. Harness: _test_support.ts.
 */
import {
  assert,
  assertEquals,
  assertExists,
  assertMatch,
} from "../tests/support/assert.ts";
import { ADMIN, USER } from "../tests/support/gateway_standin.ts";
import {
  createSession,
  dualTest,
  expectProblem,
  signed,
  withServer,
} from "./_test_support.ts";

dualTest(
  "admin API: admin keypair only; keypair secret shown once; validated input",
  async () => {
    await withServer(async (s) => {
      await expectProblem(
        await signed(s, "/x/admin/keypairs"),
        403,
        "insufficient-privilege",
      );
      await expectProblem(
        await fetch(s.base + "/x/admin/keypairs"),
        401,
        "auth-failed",
      );
      const made = await signed(s, "/x/admin/keypairs", {
        method: "POST",
        key: ADMIN,
        body: { is_admin: false, rate_limit: 50 },
      });
      assertEquals(made.status, 201);
      const kp = await made.json();
      assertMatch(kp.accessKey, /^AKIA/);
      assertExists(kp.secretKey);
      // The new keypair signs requests right away; its own limit applies.
      const res = await signed(s, "/session/none-yet", { key: kp });
      await expectProblem(res, 404, "object-not-found");
      assertEquals(res.headers.get("x-ratelimit-limit"), "50");
      const list = await (await signed(s, "/x/admin/keypairs", { key: ADMIN }))
        .json();
      assert(
        list.keypairs.every((k: Record<string, unknown>) =>
          !("secretKey" in k)
        ),
      );
      assertEquals(
        (await signed(s, `/x/admin/keypairs/${kp.accessKey}/deactivate`, {
          method: "POST",
          key: ADMIN,
        })).status,
        204,
      );
      await expectProblem(
        await signed(s, "/session/none-yet", { key: kp }),
        401,
        "auth-failed",
        "Access key is inactive",
      );
      await expectProblem(
        await signed(s, "/x/admin/keypairs", {
          method: "POST",
          key: ADMIN,
          body: { rateLimit: -1 },
        }),
        400,
        "invalid-api-params",
      );
      await createSession(s, "adm-sess");
      const sessions =
        await (await signed(s, "/x/admin/sessions?status=RUNNING&limit=10", {
          key: ADMIN,
        })).json();
      assertEquals(sessions.total, 1);
      await expectProblem(
        await signed(s, "/x/admin/sessions?status=BOGUS", { key: ADMIN }),
        400,
        "invalid-api-params",
      );
      await expectProblem(
        await signed(s, "/x/admin/agents/i-missing", { key: ADMIN }),
        404,
        "object-not-found",
      );
      const sg = await signed(s, "/x/admin/scaling-groups/gpu", {
        method: "PUT",
        key: ADMIN,
        body: { scheduler: "drf" },
      });
      assertEquals((await sg.json()).scheduler, "drf");
      // An admin may act for another keypair.
      const forOther = await signed(
        s,
        `/session/adm-sess?owner_access_key=${USER.accessKey}`,
        { key: ADMIN },
      );
      assertEquals((await forOther.json()).sessionName, "adm-sess");
    });
  },
);
