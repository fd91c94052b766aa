import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import { assert, assertEquals } from "./_test_assert.ts";
import {
  currentTraceparent,
  hasContextManager,
  inboundTraceparent,
  isTraceparent,
  newTraceparent,
  withTraceparent,
} from "./trace.ts";

Deno.test("trace: generated traceparents are well-formed and distinct", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const tp = newTraceparent();
    assert(isTraceparent(tp), tp);
    seen.add(tp.slice(3, 35));
  }
  assertEquals(seen.size, 5000);
});

Deno.test("trace: malformed traceparents are recognised", () => {
  for (
    const bad of [
      "",
      "00-xyz",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ]
  ) assert(!isTraceparent(bad), bad);
});

/** A synchronous context manager (enough for these tests; Deno's OTel registers a real one). */
class StackContextManager implements ContextManager {
  #stack: Context[] = [ROOT_CONTEXT];
  active() {
    return this.#stack[this.#stack.length - 1];
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.#stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable() {
    return this;
  }
  disable() {
    this.#stack = [ROOT_CONTEXT];
    return this;
  }
}

Deno.test("trace: with a context manager, the active span is sent and delivery runs in the received context", () => {
  assert(!hasContextManager());
  context.setGlobalContextManager(new StackContextManager());
  try {
    assert(hasContextManager());
    const sc = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: TraceFlags.SAMPLED,
    };
    const ctx = trace.setSpanContext(context.active(), sc);
    const tp = context.with(ctx, () => currentTraceparent());
    assertEquals(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    const seen = withTraceparent(
      tp,
      () => trace.getSpanContext(context.active()),
    );
    assertEquals(seen, { ...sc, isRemote: true });
  } finally {
    context.disable();
  }
});

Deno.test("trace: delivery exposes a valid inbound traceparent and ignores a broken one", () => {
  const tp = newTraceparent();
  assertEquals(withTraceparent(tp, () => inboundTraceparent()), tp);
  assertEquals(
    withTraceparent("garbage", () => inboundTraceparent()),
    undefined,
  );
  assertEquals(inboundTraceparent(), undefined);
});
