/**
 * Pure mappers from the manager port's plain data (admin views, store rows
 * as JSON) to the objects the GraphQL schema (schema.ts) serves: snake_case
 * names, JSON-valued fields as JSON text, dates as ISO 8601.
 *
 * What our cluster does not have (domains, user groups, registries) gets
 * Backend.AI's single-tenant answer: domain and group `default`, registry
 * `local`.
 *
 * @module
 */
import { servicePortsOf } from "../../actors/manager/channel/service_ports.ts";
import type { KeypairView } from "../../actors/manager/port/mod.ts";

/** One plain object of the port (a row or view), as JSON-ish data. */
export type Row = Record<string, unknown>;

/** Dates as ISO text; text passes; anything else is null. */
export function iso(v: unknown): string | null {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "number" && Number.isFinite(v)) {
    return new Date(v).toISOString();
  }
  return typeof v === "string" ? v : null;
}

/** JSON text of a value (JSONString fields), null for null/undefined. */
export function jsonText(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

const num = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;
const str = (v: unknown): string | null => typeof v === "string" ? v : null;
const slots = (v: unknown): Record<string, number> => {
  const out: Record<string, number> = {};
  if (v && typeof v === "object") {
    for (const [k, n] of Object.entries(v)) {
      if (typeof n === "number") out[k] = n;
    }
  }
  return out;
};

/** A keypair (never with its secret: that leaves the manager only at creation). */
export function keypairView(
  k: KeypairView,
  extra: { concurrencyUsed?: number; secretKey?: string } = {},
): Row {
  return {
    user_id: k.userId ?? null,
    user_info: { email: k.userId ?? null, full_name: null },
    access_key: k.accessKey,
    secret_key: extra.secretKey ?? null,
    is_active: k.isActive,
    is_admin: k.isAdmin,
    resource_policy: k.resourcePolicy,
    rate_limit: k.rateLimit ?? null,
    concurrency_limit: null,
    concurrency_used: extra.concurrencyUsed ?? null,
    num_queries: null,
    created_at: iso(k.createdAt),
    modified_at: null,
    last_used: null,
    ssh_public_key: null,
    ssh_private_key: null,
    dotfiles: null,
    bootstrap_script: null,
    domain_name: "default",
  };
}

/** A keypair resource policy (store field names in camelCase). */
export function policyView(p: Row): Row {
  return {
    name: str(p.name),
    created_at: iso(p.createdAt),
    // Slots not named in total_resource_slots are not limited.
    default_for_unspecified: "UNLIMITED",
    total_resource_slots: jsonText(p.totalResourceSlots ?? {}),
    max_session_lifetime: num(p.maxSessionLifetime),
    max_concurrent_sessions: num(p.maxConcurrentSessions),
    max_containers_per_session: num(p.maxContainersPerSession),
    idle_timeout: num(p.idleTimeout),
    max_vfolder_count: num(p.maxVfolderCount),
    max_vfolder_size: num(p.maxVfolderSize),
    allowed_vfolder_hosts: ["local"],
  };
}

/** A scaling group. */
export function scalingGroupView(g: Row): Row {
  return {
    name: str(g.name),
    description: str(g.description) ?? "",
    is_active: typeof g.isActive === "boolean" ? g.isActive : true,
    created_at: iso(g.createdAt),
    // Agents join a group on their own (static), or the group's autoscaler starts them.
    driver: g.autoscaler && Object.keys(g.autoscaler as object).length > 0
      ? "autoscaler"
      : "static",
    driver_opts: jsonText(g.autoscaler ?? {}),
    scheduler: str(g.scheduler),
    scheduler_opts: jsonText(g.schedulerOpts ?? {}),
    wsproxy_addr: null,
  };
}

/**
 * An agent as the registry reports it. `live_stat` and `mem_cur_bytes`
 * carry what is allocated on it (slots in use), not measured usage: the
 * agent reports capacity, not utilisation.
 */
export function agentView(a: Row): Row {
  const capacity = slots(a.resourceSlots);
  const available = slots(a.availableSlots);
  const occupied: Record<string, number> = {};
  for (const [k, v] of Object.entries(capacity)) {
    occupied[k] = Math.max(0, v - (available[k] ?? 0));
  }
  const node: Record<string, unknown> = {};
  for (const [k, cap] of Object.entries(capacity)) {
    if (cap <= 0) continue;
    node[k] = {
      current: occupied[k] ?? 0,
      capacity: cap,
      pct: Math.round(((occupied[k] ?? 0) / cap) * 1000) / 10,
      unit_hint: k === "mem" ? "bytes" : "count",
    };
  }
  const kernels = Array.isArray(a.kernels) ? a.kernels as Row[] : [];
  return {
    id: str(a.id),
    status: str(a.status),
    status_changed: iso(a.lastSeen),
    region: str(a.region),
    architecture: str(a.architecture),
    scaling_group: str(a.scalingGroup),
    schedulable: typeof a.schedulable === "boolean" ? a.schedulable : null,
    available_slots: jsonText(available),
    occupied_slots: jsonText(occupied),
    addr: str(a.addr),
    first_contact: iso(a.firstContact),
    lost_at: iso(a.lostAt),
    live_stat: jsonText({ node, devices: {} }),
    version: str(a.version),
    compute_plugins: jsonText(a.computePlugins ?? {}),
    hardware_metadata: jsonText({}),
    compute_containers: ({ status }: { status?: string | null }) =>
      kernels
        .filter((k) => !status || k.status === status)
        .map((k) =>
          containerView({
            id: k.kernelId,
            sessionId: k.sessionId,
            containerId: k.containerId,
            status: k.status,
            agentId: a.id,
          })
        ),
    cpu_cur_pct: null,
    mem_cur_bytes: occupied.mem ?? 0,
  };
}

/** A kernel image (images/build.ts `ImageInfo`). */
export function imageView(i: Row): Row {
  const ref = str(i.ref) ?? str(i.name) ?? "";
  const colon = ref.lastIndexOf(":");
  const labels =
    (i.labels && typeof i.labels === "object" ? i.labels : {}) as Record<
      string,
      string
    >;
  const recipe = str(i.name) ?? ref;
  return {
    name: colon > 0 ? ref.slice(0, colon) : ref,
    humanized_name: recipe,
    tag: colon > 0 ? ref.slice(colon + 1) : "latest",
    registry: "local",
    architecture: Deno.build.arch === "aarch64" ? "aarch64" : "x86_64",
    digest: str(i.id),
    size_bytes: num(i.sizeBytes),
    aliases: [recipe],
    labels: Object.entries(labels).map(([key, value]) => ({ key, value })),
    resource_limits: [
      { key: "cpu", min: String(i.minCpu ?? 1), max: null },
      { key: "mem", min: str(i.minMem) ?? "0", max: null },
    ],
    supported_accelerators: [],
    installed: true,
    installed_agents: null,
  };
}

/** A container (kernel) of a session. */
export function containerView(k: Row): Row {
  return {
    id: str(k.id),
    idx: 0,
    role: "main",
    hostname: "main1",
    cluster_role: "main",
    cluster_idx: 1,
    cluster_hostname: "main1",
    session_id: str(k.sessionId),
    image: str(k.image),
    registry: "local",
    status: str(k.status),
    status_info: str(k.statusInfo),
    status_data: jsonText({}),
    status_changed: iso(k.statusChanged),
    agent: str(k.agentId),
    container_id: str(k.containerId),
    resource_opts: jsonText({}),
    occupied_slots: jsonText(slots(k.occupiedSlots)),
    live_stat: jsonText(k.lastStat),
    last_stat: jsonText(k.lastStat),
  };
}

/**
 * A session row (store `Session`, dates as text) with its kernels when the
 * port gave them. `status_changed` is the end time of an ended session and
 * the creation time otherwise (the row keeps no separate stamp).
 */
export function sessionView(s: Row): Row {
  const status = str(s.status);
  const config =
    (s.config && typeof s.config === "object" ? s.config : {}) as Row;
  const kernels = Array.isArray(s.kernels) ? s.kernels as Row[] : [];
  const statusChanged = iso(s.terminatedAt) ?? iso(s.createdAt);
  const occupied = jsonText(slots(s.occupiedSlots));
  return {
    id: str(s.id),
    session_id: str(s.id),
    name: str(s.name),
    tag: str(s.tag),
    type: str(s.type)?.toUpperCase() ?? null,
    image: str(s.image),
    registry: "local",
    cluster_template: null,
    cluster_mode: "single-node",
    cluster_size: 1,
    domain_name: "default",
    group_name: "default",
    group_id: null,
    user_email: null,
    user_id: null,
    access_key: str(s.accessKey),
    created_user_email: null,
    created_user_id: null,
    status,
    status_info: str(s.statusInfo),
    status_data: jsonText({}),
    status_changed: statusChanged,
    created_at: iso(s.createdAt),
    terminated_at: iso(s.terminatedAt),
    starts_at: null,
    startup_command: str(config.startupCommand),
    result: status === "ERROR" ? "FAILURE" : "UNDEFINED",
    resource_opts: jsonText(config.resourceOpts ?? {}),
    resoucre_opts: jsonText(config.resourceOpts ?? {}),
    scaling_group: str(s.scalingGroup),
    service_ports: jsonText(
      servicePortsOf(
        str(s.image) ?? "",
        Array.isArray(config.preopenPorts) ? config.preopenPorts : [],
      ),
    ),
    mounts: Array.isArray(config.mounts) ? config.mounts : [],
    occupied_slots: occupied,
    num_queries: num(s.numQueries),
    containers: kernels.map((k) =>
      containerView({
        ...k,
        status: k.status ?? status,
        statusInfo: s.statusInfo,
        statusChanged,
        lastStat: s.lastStat,
        occupiedSlots: k.occupiedSlots ?? s.occupiedSlots,
      })
    ),
    dependencies: [],
  };
}
