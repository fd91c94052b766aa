/**
 * GPU discovery through `nvidia-smi`. An absent binary means "this node has
 * no GPUs", not an error: most agents here have none.
 */

/** One CUDA device as nvidia-smi reports it. */
export interface GpuDevice {
  index: number;
  uuid: string;
  name: string;
  /** Total memory in MiB. */
  memoryMiB: number;
}

/** nvidia-smi exists but failed or printed something unparsable. */
export class GpuDiscoveryError extends Error {
  override name = "GpuDiscoveryError";
}

/** Options of {@linkcode discoverGpus}. */
export interface DiscoverGpusOptions {
  /** @default "nvidia-smi" (looked up on PATH) */
  nvidiaSmiPath?: string;
}

/** The arguments we pass (also asserted by tests against the fake). */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=index,uuid,name,memory.total",
  "--format=csv,noheader,nounits",
];

/** Parses `index, uuid, name, memory.total` CSV lines. */
export function parseNvidiaSmiCsv(text: string): GpuDevice[] {
  const out: GpuDevice[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const parts = line.split(",").map((p) => p.trim());
    if (parts.length < 4) {
      throw new GpuDiscoveryError(`bad nvidia-smi line: ${line}`);
    }
    const index = Number(parts[0]);
    const mem = Number(parts[parts.length - 1]);
    const name = parts.slice(2, parts.length - 1).join(", ");
    if (!Number.isInteger(index) || !Number.isFinite(mem)) {
      throw new GpuDiscoveryError(`bad nvidia-smi line: ${line}`);
    }
    out.push({ index, uuid: parts[1], name, memoryMiB: mem });
  }
  return out;
}

/** Lists the node's GPUs; [] when nvidia-smi is not installed. */
export async function discoverGpus(
  options: DiscoverGpusOptions = {},
): Promise<GpuDevice[]> {
  const bin = options.nvidiaSmiPath ?? "nvidia-smi";
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(bin, {
      args: NVIDIA_SMI_ARGS,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound ||
      e instanceof Deno.errors.PermissionDenied
    ) return [];
    throw e;
  }
  if (!out.success) {
    throw new GpuDiscoveryError(
      `nvidia-smi exited ${out.code}: ${
        new TextDecoder().decode(out.stderr).trim()
      }`,
    );
  }
  return parseNvidiaSmiCsv(new TextDecoder().decode(out.stdout));
}
