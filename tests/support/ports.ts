/**
 * A free TCP port for a test's own listener (a manager, Postgres, a storage
 * node): the kernel picks one on 127.0.0.1, the listener is closed, and
 * the port is handed to whoever binds it next.
 *
 * @module
 */

/** A port the kernel hands out as free on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
