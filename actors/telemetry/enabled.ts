/**
 * Whether tracing is on, decided once per process: Deno's built-in
 * OpenTelemetry exports spans only with `OTEL_DENO=true`; without it every
 * span helper here takes a path that costs one boolean check.
 *
 * @module
 */

function readFlag(): boolean {
  try {
    const v = Deno.env.get("OTEL_DENO")?.toLowerCase();
    return v === "true" || v === "1";
  } catch {
    return false; // no env permission: Deno's OpenTelemetry cannot be on either
  }
}

/** `OTEL_DENO` is `true` (or `1`): spans are made and exported. */
export const TRACING: boolean = readFlag();
