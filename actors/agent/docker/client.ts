/**
 * Thin typed Docker Engine API client over the engine's unix socket.
 *
 * Only what the agent needs: images, containers, one-shot stats, exec and
 * the hijacked attach. The API version is negotiated once with GET /version
 * (min of the engine's version and {@linkcode MAX_API_VERSION}) so request
 * paths are stable for the client's life.
 */
import { z } from "zod";
import { DockerError, DockerUnavailableError } from "./errors.ts";
import { attachContainer, type AttachedStream } from "./attach.ts";
import { StreamDemuxer } from "./demux.ts";

/** Highest API version this client was written against. */
export const MAX_API_VERSION = "1.41";

/** Options of {@linkcode DockerClient.connect}. */
export interface DockerClientOptions {
  /** @default "/var/run/docker.sock" */
  socketPath?: string;
  /** Skip negotiation and use this version (e.g. "1.41"). */
  apiVersion?: string;
}

export const VersionSchema = z.object({
  Version: z.string(),
  ApiVersion: z.string(),
  MinAPIVersion: z.string().optional(),
  Os: z.string().optional(),
  Arch: z.string().optional(),
}).loose();
export type DockerVersion = z.infer<typeof VersionSchema>;

export const ImageSummarySchema = z.object({
  Id: z.string(),
  RepoTags: z.array(z.string()).nullable().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
  Size: z.number().optional(),
  Created: z.number().optional(),
}).loose();
export type ImageSummary = z.infer<typeof ImageSummarySchema>;

export const ImageInspectSchema = z.object({
  Id: z.string(),
  RepoTags: z.array(z.string()).nullable().optional(),
  Config: z.object({
    Labels: z.record(z.string(), z.string()).nullable().optional(),
    Cmd: z.array(z.string()).nullable().optional(),
    Env: z.array(z.string()).nullable().optional(),
  }).loose().nullable().optional(),
  Size: z.number().optional(),
}).loose();
export type ImageInspect = z.infer<typeof ImageInspectSchema>;

export const ContainerSummarySchema = z.object({
  Id: z.string(),
  Names: z.array(z.string()).optional(),
  Image: z.string().optional(),
  State: z.string().optional(),
  Status: z.string().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
}).loose();
export type ContainerSummary = z.infer<typeof ContainerSummarySchema>;

export const ContainerInspectSchema = z.object({
  Id: z.string(),
  Name: z.string().optional(),
  State: z.object({
    Status: z.string(),
    Running: z.boolean(),
    OOMKilled: z.boolean(),
    ExitCode: z.number(),
    Pid: z.number().optional(),
    Error: z.string().optional(),
    StartedAt: z.string().optional(),
    FinishedAt: z.string().optional(),
  }).loose(),
  Config: z.object({
    Labels: z.record(z.string(), z.string()).nullable().optional(),
    Image: z.string().optional(),
  }).loose().optional(),
  HostConfig: z.record(z.string(), z.unknown()).optional(),
}).loose();
export type ContainerInspect = z.infer<typeof ContainerInspectSchema>;

export const CreateResponseSchema = z.object({
  Id: z.string(),
  Warnings: z.array(z.string()).nullable().optional(),
});

export const WaitResponseSchema = z.object({
  StatusCode: z.number(),
  Error: z.object({ Message: z.string() }).nullable().optional(),
});
export type WaitResponse = z.infer<typeof WaitResponseSchema>;

export const ExecInspectSchema = z.object({
  ID: z.string(),
  Running: z.boolean(),
  ExitCode: z.number().nullable(),
}).loose();
export type ExecInspect = z.infer<typeof ExecInspectSchema>;

/** Engine one-shot stats; kept loose, metering/ parses what it needs. */
export type ContainerStats = Record<string, unknown>;

/** Label filter: `{key: value}` for exact, or `[key]` for presence. */
export type LabelFilter = Record<string, string> | string[];

type Query = Record<string, string | number | boolean | undefined>;

/** Typed client; create it with {@linkcode DockerClient.connect}. */
export class DockerClient {
  readonly socketPath: string;
  readonly apiVersion: string;
  #http: Deno.HttpClient;

  private constructor(
    socketPath: string,
    apiVersion: string,
    http: Deno.HttpClient,
  ) {
    this.socketPath = socketPath;
    this.apiVersion = apiVersion;
    this.#http = http;
  }

  /**
   * Opens a client and negotiates the API version. Throws
   * {@linkcode DockerUnavailableError} when the socket is absent or refuses.
   */
  static async connect(
    options: DockerClientOptions = {},
  ): Promise<DockerClient> {
    const socketPath = options.socketPath ?? "/var/run/docker.sock";
    const http = Deno.createHttpClient({
      proxy: { transport: "unix", path: socketPath },
    });
    let version = options.apiVersion;
    if (!version) {
      const probe = new DockerClient(socketPath, "", http);
      try {
        const v = await probe.version();
        version = minVersion(v.ApiVersion, MAX_API_VERSION);
      } catch (e) {
        http.close();
        throw e;
      }
    }
    return new DockerClient(socketPath, version, http);
  }

  /** Releases the HTTP connection pool. */
  close(): void {
    this.#http.close();
  }

  async #request(
    method: string,
    path: string,
    opts: { query?: Query; body?: unknown; okStatuses?: number[] } = {},
  ): Promise<Response> {
    const prefix = this.apiVersion ? `/v${this.apiVersion}` : "";
    let url = `http://docker${prefix}${path}`;
    if (opts.query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) {
        if (v !== undefined) qs.set(k, String(v));
      }
      const s = qs.toString();
      if (s) url += `?${s}`;
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        client: this.#http,
        headers: opts.body !== undefined
          ? { "content-type": "application/json" }
          : undefined,
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      });
    } catch (cause) {
      throw new DockerUnavailableError(this.socketPath, { cause });
    }
    if (res.ok || opts.okStatuses?.includes(res.status)) return res;
    const text = await res.text();
    let msg = text;
    try {
      msg = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch { /* not JSON */ }
    throw new DockerError(res.status, msg.trim(), `${method} ${path}`);
  }

  async #json<T>(
    schema: z.ZodType<T>,
    method: string,
    path: string,
    opts?: { query?: Query; body?: unknown },
  ): Promise<T> {
    const res = await this.#request(method, path, opts);
    return schema.parse(await res.json());
  }

  async #empty(
    method: string,
    path: string,
    opts?: { query?: Query; body?: unknown; okStatuses?: number[] },
  ): Promise<void> {
    const res = await this.#request(method, path, opts);
    await res.body?.cancel();
  }

  /** GET /version (works before negotiation: unversioned path). */
  version(): Promise<DockerVersion> {
    return this.#json(VersionSchema, "GET", "/version");
  }

  // ---- images -----------------------------------------------------------

  listImages(options: { labels?: LabelFilter } = {}): Promise<ImageSummary[]> {
    return this.#json(z.array(ImageSummarySchema), "GET", "/images/json", {
      query: { filters: labelFilters(options.labels) },
    });
  }

  inspectImage(name: string): Promise<ImageInspect> {
    return this.#json(
      ImageInspectSchema,
      "GET",
      `/images/${encodeURIComponent(name)}/json`,
    );
  }

  removeImage(name: string, options: { force?: boolean } = {}): Promise<void> {
    return this.#empty("DELETE", `/images/${encodeURIComponent(name)}`, {
      query: { force: options.force },
    });
  }

  // ---- containers -------------------------------------------------------

  /** POST /containers/create; returns the new id. */
  async createContainer(
    body: Record<string, unknown>,
    options: { name?: string } = {},
  ): Promise<string> {
    const r = await this.#json(
      CreateResponseSchema,
      "POST",
      "/containers/create",
      {
        query: { name: options.name },
        body,
      },
    );
    return r.Id;
  }

  /** Starts; an already started container (304) is not an error. */
  startContainer(id: string): Promise<void> {
    return this.#empty("POST", `/containers/${id}/start`, {
      okStatuses: [304],
    });
  }

  /** Blocks until the container reaches `condition` and returns its exit code. */
  waitContainer(
    id: string,
    condition: "not-running" | "next-exit" | "removed" = "not-running",
  ): Promise<WaitResponse> {
    return this.#json(WaitResponseSchema, "POST", `/containers/${id}/wait`, {
      query: { condition },
    });
  }

  /** Freezes every process of the container (cgroup freezer); 409 when not running or already paused. */
  pauseContainer(id: string): Promise<void> {
    return this.#empty("POST", `/containers/${id}/pause`);
  }

  /** Thaws a paused container; 409 when it is not paused. */
  unpauseContainer(id: string): Promise<void> {
    return this.#empty("POST", `/containers/${id}/unpause`);
  }

  killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    return this.#empty("POST", `/containers/${id}/kill`, { query: { signal } });
  }

  /** SIGTERM, then SIGKILL after `timeoutS`; already stopped (304) is fine. */
  stopContainer(
    id: string,
    options: { timeoutS?: number } = {},
  ): Promise<void> {
    return this.#empty("POST", `/containers/${id}/stop`, {
      query: { t: options.timeoutS },
      okStatuses: [304],
    });
  }

  removeContainer(
    id: string,
    options: { force?: boolean; volumes?: boolean } = {},
  ): Promise<void> {
    return this.#empty("DELETE", `/containers/${id}`, {
      query: { force: options.force, v: options.volumes },
    });
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.#json(ContainerInspectSchema, "GET", `/containers/${id}/json`);
  }

  /** One-shot stats (no streaming, no 1 s priming wait). */
  containerStats(id: string): Promise<ContainerStats> {
    return this.#json(
      z.record(z.string(), z.unknown()),
      "GET",
      `/containers/${id}/stats`,
      {
        query: { stream: false, "one-shot": true },
      },
    );
  }

  /** Lists containers (all states by default) carrying the given labels. */
  listContainers(
    options: { labels?: LabelFilter; all?: boolean } = {},
  ): Promise<ContainerSummary[]> {
    return this.#json(
      z.array(ContainerSummarySchema),
      "GET",
      "/containers/json",
      {
        query: {
          all: options.all ?? true,
          filters: labelFilters(options.labels),
        },
      },
    );
  }

  /** Changes cpu/memory limits of a running container. */
  updateContainer(id: string, body: Record<string, unknown>): Promise<void> {
    return this.#empty("POST", `/containers/${id}/update`, { body });
  }

  /** Hijacked stdin/stdout/stderr attach (see attach.ts). */
  attach(
    id: string,
    options: { logs?: boolean } = {},
  ): Promise<AttachedStream> {
    return attachContainer(id, {
      socketPath: this.socketPath,
      apiVersion: this.apiVersion,
      logs: options.logs,
    });
  }

  // ---- exec (rare: diagnostics) -----------------------------------------

  async execCreate(
    id: string,
    cmd: string[],
    options: { user?: string; env?: string[] } = {},
  ): Promise<string> {
    const r = await this.#json(
      z.object({ Id: z.string() }),
      "POST",
      `/containers/${id}/exec`,
      {
        body: {
          Cmd: cmd,
          AttachStdout: true,
          AttachStderr: true,
          User: options.user,
          Env: options.env,
        },
      },
    );
    return r.Id;
  }

  /** Runs the exec to completion and returns its demultiplexed output. */
  async execStart(execId: string): Promise<{ stdout: string; stderr: string }> {
    const res = await this.#request("POST", `/exec/${execId}/start`, {
      body: { Detach: false, Tty: false },
    });
    const demux = new StreamDemuxer();
    const dec = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    const out = { stdout: "", stderr: "" };
    for await (const chunk of res.body ?? []) {
      for (const c of demux.push(chunk)) {
        if (c.stream !== "stdin") {
          out[c.stream] += dec[c.stream].decode(c.data, { stream: true });
        }
      }
    }
    return out;
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.#json(ExecInspectSchema, "GET", `/exec/${execId}/json`);
  }

  /** create + start + inspect: a command's output and exit code. */
  async exec(
    id: string,
    cmd: string[],
    options: { user?: string } = {},
  ): Promise<{ stdout: string; stderr: string; exitCode: number | null }> {
    const eid = await this.execCreate(id, cmd, options);
    const out = await this.execStart(eid);
    const info = await this.execInspect(eid);
    return { ...out, exitCode: info.ExitCode };
  }

  /**
   * `GET /containers/{id}/logs` of the chosen streams, demultiplexed (a
   * container without a TTY logs in the attach stream's framing, demux.ts)
   * and decoded as UTF-8. At most `maxBytes` of the newest output are kept.
   * Throws DockerError when the container's log driver cannot be read.
   */
  async containerLogs(
    id: string,
    options: {
      stdout?: boolean;
      stderr?: boolean;
      /** Only lines logged from then on (ms since epoch). */
      sinceMs?: number;
      /** @default {1048576} */
      maxBytes?: number;
    } = {},
  ): Promise<string> {
    const maxBytes = options.maxBytes ?? 1 << 20;
    const res = await this.#request("GET", `/containers/${id}/logs`, {
      query: {
        stdout: options.stdout ?? true,
        stderr: options.stderr ?? true,
        follow: false,
        // The engine reads `seconds.nanoseconds`.
        ...(options.sinceMs !== undefined
          ? { since: (options.sinceMs / 1000).toFixed(9) }
          : {}),
      },
    });
    const demux = new StreamDemuxer();
    const parts: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      for (const c of demux.push(chunk)) {
        if (c.stream === "stdin") continue;
        parts.push(c.data);
        size += c.data.length;
        while (size - parts[0].length >= maxBytes) {
          size -= parts.shift()!.length;
        }
      }
    }
    const all = new Uint8Array(size);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    return new TextDecoder().decode(
      all.length > maxBytes ? all.subarray(all.length - maxBytes) : all,
    );
  }
}

function labelFilters(labels?: LabelFilter): string | undefined {
  if (!labels) return undefined;
  const list = Array.isArray(labels)
    ? labels
    : Object.entries(labels).map(([k, v]) => `${k}=${v}`);
  return list.length ? JSON.stringify({ label: list }) : undefined;
}

/** The lower of two dotted versions ("1.43" vs "1.41" → "1.41"). */
export function minVersion(a: string, b: string): string {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y ? a : b;
  }
  return a;
}
