import assert from "node:assert/strict";
import { displacedBy, freeOf, isBusy, loadOf, plural } from "./_scaling.ts";

const a = (occupied: Record<string, number>, runningKernels = 1) => ({
  capacity: { cpu: 4, mem: 8 },
  occupied,
  runningKernels,
});

Deno.test("agent helpers: free room, load, busy, displaced load", () => {
  assert.deepEqual(freeOf(a({ cpu: 5, mem: 2 })), { cpu: 0, mem: 6 });
  assert.equal(loadOf(a({ cpu: 2, mem: 2 })), (0.5 + 0.25) / 2);
  assert.equal(loadOf({ capacity: {}, occupied: {} }), 0);
  assert.ok(isBusy(a({}, 1)) && !isBusy(a({}, 0)));
  assert.ok(isBusy({ ...a({}, 0), hostsProtectedSessions: true }));
  assert.deepEqual(displacedBy(a({ cpu: 1 })), { cpu: 1 });
  assert.deepEqual(displacedBy(a({ cpu: 1 }, 0)), {});
  assert.deepEqual(
    displacedBy({ ...a({ cpu: 1 }), hostsProtectedSessions: true }),
    {},
  );
  assert.equal(plural(1, "agent"), "1 agent");
  assert.equal(plural(2, "agent"), "2 agents");
});
