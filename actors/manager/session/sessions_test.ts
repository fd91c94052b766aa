import { assert, assertEquals } from "../../runtime/_test_util.ts";
import type { ActorRef } from "../../runtime/mod.ts";
import type {
  Caller,
  CreateSessionRequest,
  CreateSessionResult,
} from "../port/mod.ts";
import { refuseMounts } from "./create.ts";
import { SessionsActor, type SessionsMsg } from "./sessions.ts";
import { harness } from "./_test_support.ts";

const caller: Caller = {
  accessKey: "AKTEST",
  requester: "AKTEST",
  isAdmin: false,
};

function request(
  over: Partial<CreateSessionRequest> = {},
  config: Partial<CreateSessionRequest["config"]> = {},
): CreateSessionRequest {
  return {
    image: "python",
    name: "nb1",
    type: "interactive",
    enqueueOnly: true,
    maxWaitSeconds: 0,
    reuseIfExists: true,
    ...over,
    config: {
      resources: {},
      resourceOpts: {},
      mounts: [],
      mountMap: {},
      environ: {},
      preopenPorts: [],
      ...config,
    },
  };
}

function setup(admitted: string[] = []) {
  const h = harness();
  const ref = h.system.spawn(
    () =>
      new SessionsActor(
        h.services,
        h.store,
        (_ak, id) => {
          admitted.push(id);
          return Promise.resolve();
        },
        {
          resolveImage: (n) => (n === "python" ? "bai/python:test" : undefined),
          imageResources: () => ({
            defaults: { cpu: 1, mem: 1 << 30 },
            minimums: { cpu: 1, mem: 256 << 20 },
          }),
          resolveMounts: refuseMounts,
        },
      ),
    { name: "sessions" },
  ) as ActorRef<SessionsMsg>;
  const create = (req: CreateSessionRequest) =>
    ref.ask<CreateSessionResult>({ type: "create", caller, req }, {
      timeoutMs: 5_000,
    });
  const problem = (req: CreateSessionRequest) =>
    create(req).then(
      () => "created",
      (e) => (e as { problemType?: string }).problemType ?? String(e),
    );
  return { h, ref, create, problem };
}

Deno.test("sessions: a create is stored PENDING with the image's default slots", async () => {
  const { h, create } = setup();
  try {
    const res = await create(request());
    assertEquals(res.status, "PENDING");
    assertEquals(res.created, true);
    const row = h.store.rows.get(res.sessionId)!;
    assertEquals(row.image, "bai/python:test");
    assertEquals(row.requestedSlots, { cpu: 1, mem: 1 << 30 });
  } finally {
    await h.close();
  }
});

Deno.test("sessions: refused creates leave no trace (no row, no slot)", async () => {
  const admitted: string[] = [];
  const { h, problem } = setup(admitted);
  try {
    assertEquals(
      await problem(request({ image: "cobol" })),
      "invalid-api-params",
    );
    assertEquals(
      await problem(request({}, { resources: { mem: 1 << 20 } })),
      "invalid-api-params",
    );
    assertEquals(
      await problem(request({}, { resources: { "tpu.device": 1 } })),
      "invalid-api-params",
    );
    assertEquals(
      await problem(request({}, { mounts: ["data"] })),
      "vfolder-not-found",
    );
    assertEquals(h.store.rows.size, 0);
    assertEquals(admitted, [], "nothing reserved before the checks pass");
  } finally {
    await h.close();
  }
});

Deno.test("sessions: a row that cannot be stored gives its reserved slots back", async () => {
  const admitted: string[] = [];
  const { h, problem } = setup(admitted);
  try {
    h.store.failInsert = Object.assign(new Error("bad text"), {
      problemType: "invalid-api-params",
    });
    assertEquals(await problem(request()), "invalid-api-params");
    assertEquals(admitted.length, 1);
    const released = h.keypairMsgs.find((k) =>
      k.msg.type === "session.status" && k.msg.sessionId === admitted[0]
    );
    assert(released, "the keypair is told the reservation ended");
    assertEquals((released!.msg as { status: string }).status, "CANCELLED");
  } finally {
    await h.close();
  }
});

Deno.test("sessions: same name reuses (same image) or refuses (other image, or reuse off)", async () => {
  const { h, create, problem } = setup();
  try {
    const first = await create(request());
    const again = await create(request());
    assertEquals(again.created, false);
    assertEquals(again.sessionId, first.sessionId);
    assertEquals(
      await problem(request({ reuseIfExists: false })),
      "session-already-exists",
    );
  } finally {
    await h.close();
  }
});

Deno.test("sessions: without enqueueOnly the create answers once RUNNING", async () => {
  const { h, create } = setup();
  try {
    const pending = create(request({ enqueueOnly: false, maxWaitSeconds: 5 }));
    // Place it as the scheduler would.
    while (!h.scheduled.some((m) => m.type === "enqueue")) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const id = (h.scheduled[0] as { sessionId: string }).sessionId;
    h.system.refFor<{ type: "scheduled"; agentId: string }>({
      node: "manager",
      path: `/user/sessions/${id}`,
    }).tell({ type: "scheduled", agentId: "a1" });
    const res = await pending;
    assertEquals(res.status, "RUNNING");
  } finally {
    await h.close();
  }
});
