/**
 * The admin GraphQL endpoints over the gateway stand-in (no cluster): the
 * queries and mutations exactly as the Python SDK 22.03.2 sends them, the
 * response shapes it reads, privilege refusals as 403 with nothing changed,
 * and bad documents as GraphQL errors (never a 500).
 */
import { createGateway } from "../app.ts";
import { signedFetch } from "../cli/sign.ts";
import {
  ADMIN,
  createStandIn,
  USER,
} from "../../tests/support/gateway_standin.ts";
import { assert, assertEquals } from "../../tests/support/assert.ts";

type Json = Record<string, unknown>;

async function withGateway(
  fn: (
    gql: (
      query: string,
      variables?: Json,
      opts?: { key?: typeof ADMIN; path?: string },
    ) => Promise<{ status: number; body: Json }>,
    standIn: ReturnType<typeof createStandIn>,
  ) => Promise<void>,
): Promise<void> {
  const standIn = createStandIn();
  const app = createGateway(standIn.deps, { logError: () => {} });
  const server = Deno.serve({ port: 0, onListen() {} }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    await fn(async (query, variables, opts = {}) => {
      const res = await signedFetch(
        base,
        opts.key ?? ADMIN,
        "POST",
        opts.path ?? "/admin/gql",
        { query, variables: variables ?? {} },
      );
      const body = await res.json();
      return { status: res.status, body };
    }, standIn);
  } finally {
    await server.shutdown();
  }
}

// The SDK's own query texts (func/keypair.py, func/session.py via pagination.py).
const KEYPAIR_INFO =
  "query {  keypair {    user_id user_info { full_name } access_key secret_key is_active is_admin created_at last_used resource_policy rate_limit concurrency_used  }}";
const SESSION_LIST =
  `query($limit:Int!, $offset:Int!, $status: String, $access_key: String, $filter: String, $order: String) {
  compute_session_list(
      limit:$limit, offset:$offset, status:$status, access_key:$access_key, filter:$filter, order:$order) {
    items { name access_key session_id group_name id image type status status_info status_changed result }
    total_count
  }
}`;

Deno.test("graphql: keypair info answers the caller's own keypair, no secret", async () => {
  await withGateway(async (gql) => {
    const { status, body } = await gql(KEYPAIR_INFO, undefined, { key: USER });
    assertEquals(status, 200);
    assertEquals(body.errors, undefined);
    const kp = (body.data as Json).keypair as Json;
    assertEquals(kp.access_key, USER.accessKey);
    assertEquals(kp.is_admin, false);
    assertEquals(kp.secret_key, null);
    assertEquals(kp.user_info, { full_name: null });
    // Selection order is kept: the CLI zips fields with item.values().
    assertEquals(Object.keys(kp)[0], "user_id");
    assertEquals(Object.keys(kp).at(-1), "concurrency_used");
  });
});

Deno.test("graphql: compute_session_list pages a user's own sessions only", async () => {
  await withGateway(async (gql, standIn) => {
    const caller = (key: typeof USER, isAdmin: boolean) => ({
      accessKey: key.accessKey,
      requester: key.accessKey,
      isAdmin,
    });
    const create = (key: typeof USER, name: string, isAdmin = false) =>
      standIn.deps.sessions.create(caller(key, isAdmin), {
        image: "python",
        name,
        type: "interactive",
        enqueueOnly: false,
        maxWaitSeconds: 0,
        reuseIfExists: true,
        config: {
          resources: { cpu: 1 },
          resourceOpts: {},
          mounts: [],
          mountMap: {},
          environ: {},
          preopenPorts: [],
        },
      });
    await create(USER, "mine-1");
    await create(USER, "mine-2");
    await create(ADMIN, "admins", true);
    const vars = {
      limit: 1,
      offset: 1,
      status: "PENDING,RUNNING",
      access_key: null,
      filter: null,
      order: null,
    };
    const mine = await gql(SESSION_LIST, vars, { key: USER });
    assertEquals(mine.status, 200);
    const list = (mine.body.data as Json).compute_session_list as Json;
    assertEquals(list.total_count, 2);
    const items = list.items as Json[];
    assertEquals(items.length, 1);
    assertEquals(items[0].access_key, USER.accessKey);
    assertEquals(items[0].status, "RUNNING");
    assertEquals(items[0].type, "INTERACTIVE");
    const all = await gql(SESSION_LIST, { ...vars, limit: 10, offset: 0 });
    assertEquals(
      ((all.body.data as Json).compute_session_list as Json).total_count,
      3,
    );
    // One by id: the owner and admins find it, another user does not.
    const id = String(items[0].session_id);
    const one =
      "query($id: UUID!) { compute_session(id: $id) { name occupied_slots } }";
    const own = await gql(one, { id }, { key: USER });
    assertEquals(
      ((own.body.data as Json).compute_session as Json).occupied_slots,
      JSON.stringify({ cpu: 1 }),
    );
    const admins = (await gql(SESSION_LIST, { ...vars, offset: 0, limit: 10 }))
      .body;
    const adminId = (((admins.data as Json).compute_session_list as Json)
      .items as Json[]).find((s) => s.name === "admins")!.session_id;
    const foreign = await gql(one, { id: adminId }, { key: USER });
    assertEquals((foreign.body.data as Json).compute_session, null);
  });
});

Deno.test("graphql: admin-only fields and mutations refuse a user keypair with 403, changing nothing", async () => {
  await withGateway(async (gql, standIn) => {
    for (
      const q of [
        "query { keypairs { access_key } }",
        "query($limit:Int!, $offset:Int!) { agent_list(limit:$limit, offset:$offset) { total_count } }",
        "query { scaling_groups { name } }",
        "query { keypair_resource_policies { name } }",
        `query { keypair(access_key: "${ADMIN.accessKey}") { is_admin } }`,
      ]
    ) {
      const r = await gql(q, { limit: 10, offset: 0 }, { key: USER });
      assertEquals(r.status, 403, q);
      assertEquals(
        r.body.type,
        "https://api.backend.ai/probs/insufficient-privilege",
      );
    }
    const before = (await standIn.deps.admin.listKeypairs()).length;
    const r = await gql(
      "mutation($user_id: String!, $input: KeyPairInput!) { create_keypair(user_id: $user_id, props: $input) { ok msg keypair { access_key secret_key } } }",
      {
        user_id: "mallory",
        input: {
          is_active: true,
          is_admin: true,
          resource_policy: null,
          rate_limit: null,
        },
      },
      { key: USER },
    );
    assertEquals(r.status, 403);
    assertEquals((await standIn.deps.admin.listKeypairs()).length, before);
  });
});

Deno.test("graphql: keypair create, modify and deactivate as the SDK sends them", async () => {
  await withGateway(async (gql, standIn) => {
    const created = await gql(
      "mutation($user_id: String!, $input: KeyPairInput!) {  create_keypair(user_id: $user_id, props: $input) {    ok msg keypair { access_key secret_key }  }}",
      {
        user_id: "alice@example.com",
        input: {
          is_active: true,
          is_admin: false,
          resource_policy: "default",
          rate_limit: 5000,
        },
      },
    );
    const res = (created.body.data as Json).create_keypair as Json;
    assertEquals(res.ok, true);
    const kp = res.keypair as Json;
    assert(typeof kp.secret_key === "string" && kp.secret_key.length > 0);
    const ak = String(kp.access_key);
    const modify =
      "mutation($access_key: String!, $input: ModifyKeyPairInput!) {  modify_keypair(access_key: $access_key, props: $input) {    ok msg  }}";
    const m = await gql(modify, {
      access_key: ak,
      input: {
        is_active: false,
        is_admin: null,
        resource_policy: null,
        rate_limit: 42,
      },
    });
    assertEquals((m.body.data as Json).modify_keypair, {
      ok: true,
      msg: "success",
    });
    const after = (await standIn.deps.admin.listKeypairs()).find((k) =>
      k.accessKey === ak
    )!;
    assertEquals([after.isActive, after.rateLimit, after.isAdmin], [
      false,
      42,
      false,
    ]);
    const missing = await gql(modify, {
      access_key: "AKIANOSUCHKEY0000000",
      input: { is_active: true },
    });
    assertEquals(
      ((missing.body.data as Json).modify_keypair as Json).ok,
      false,
    );
  });
});

Deno.test("graphql: listings carry the JSON-text fields the CLI formatters parse", async () => {
  await withGateway(async (gql) => {
    const r = await gql(
      "query { agents { id status live_stat available_slots mem_cur_bytes } images { name tag size_bytes aliases } scaling_groups { name driver driver_opts scheduler } keypair_resource_policies { name total_resource_slots max_vfolder_size allowed_vfolder_hosts } }",
    );
    assertEquals(r.status, 200);
    const d = r.body.data as Json;
    const agent = (d.agents as Json[])[0];
    assertEquals(agent.id, "i-local");
    assertEquals(JSON.parse(String(agent.live_stat)).devices, {});
    assertEquals(agent.mem_cur_bytes, 0);
    assertEquals((d.scaling_groups as Json[])[0].driver, "static");
    assertEquals(
      JSON.parse(String(
        (d.keypair_resource_policies as Json[])[0]
          .total_resource_slots,
      )),
      {},
    );
    assertEquals((d.images as Json[])[0].name, "python");
  });
});

Deno.test("graphql: bad documents are GraphQL errors; the legacy path answers 400 graphql-error", async () => {
  await withGateway(async (gql) => {
    const syntax = await gql("query {");
    assertEquals(syntax.status, 200);
    assert((syntax.body.errors as Json[]).length > 0);
    const unknown = await gql("query { no_such_field }");
    assert(
      String((unknown.body.errors as Json[])[0].message).includes(
        "no_such_field",
      ),
    );
    const intro = await gql("query { __schema { types { name } } }");
    assert((intro.body.errors as Json[]).length > 0, "introspection is off");
    const filtered = await gql(SESSION_LIST, {
      limit: 10,
      offset: 0,
      filter: "name == 'x'",
    });
    assert(
      String((filtered.body.errors as Json[])[0].message).includes("filter"),
    );
    const wide = await gql(
      `query { ${
        Array.from({ length: 21 }, (_, i) => `a${i}: images { name }`).join(" ")
      } }`,
    );
    assert(String((wide.body.errors as Json[])[0].message).includes("20"));
    const legacy = await gql("query { nope }", undefined, {
      path: "/admin/graphql",
    });
    assertEquals(legacy.status, 400);
    assertEquals(
      legacy.body.type,
      "https://api.backend.ai/probs/graphql-error",
    );
    const ok = await gql("query { images { name } }", undefined, {
      path: "/admin/graphql",
    });
    assertEquals(ok.status, 200);
    assertEquals(ok.body, { images: [{ name: "python" }] });
  });
});
