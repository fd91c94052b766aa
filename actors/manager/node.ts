/**
 * The manager node's core: opens the store (embedded Postgres unless
 * DATABASE_URL), seeds the admin keypair, starts the actor system and its
 * supervisor tree (root.ts) and the cluster that agent nodes join. It
 * answers with the port the HTTP gateway calls ({@link GatewayDeps}) and
 * the cluster's upgrade handler; `roles/manager.ts` puts the two behind
 * one HTTP server (this layer does not know HTTP routes).
 *
 * @module
 */

import { dialHost } from "../cluster/dial_host.ts";
import { resolve } from "node:path";
import { ActorSystem } from "../runtime/mod.ts";
import type { ActorRef } from "../runtime/types.ts";
import { Cluster } from "../cluster/mod.ts";
import { recipeFor, resolveImage } from "../../images/catalog.ts";
import {
  type ImageResourceSpec,
  parseBinarySize,
} from "../../policies/slots.ts";
import { AGENT_PATHS, DEFAULT_KERNEL_SLOTS } from "../protocol/agent.ts";
import type { AgentMsg, KernelMsg } from "../protocol/agent.ts";
import { decideExpiry } from "../../policies/idle.ts";
import type { ManagerConfig } from "./config.ts";
import { openStore, type Store } from "./store/mod.ts";
import { storePorts } from "./store_ports.ts";
import { managerRoot, PATHS } from "./root.ts";
import { SessionInbound } from "./session/messages.ts";
import { createEventBus, type ManagerServices } from "./services.ts";
import { KeypairActor, type KeypairMsg } from "./keypair.ts";
import { createGatewayDeps } from "./gateway.ts";
import { createAdminDeps } from "./admin.ts";
import { boundedKeypairLookup } from "./keypair_lookup.ts";
import {
  refusingStore,
  refusingStoreFailures,
  StoreGate,
} from "./store_failures.ts";
import { ChannelEvent, RegistryMsg } from "../protocol/manager.ts";
import { CHANNELS_PATH, ChannelsActor } from "./channel/actor.ts";
import { createChannelDeps } from "./channel/deps.ts";
import type { GatewayDeps } from "./port/mod.ts";
import type { SchedulerMsg } from "./scheduler.ts";
import type { SessionsMsg } from "./session/sessions.ts";
import { loadOrCreateSecret, seedAdmin } from "./seed.ts";
import { LocalProcessDriver } from "./autoscaler_driver.ts";
import { defaultIdPrefix } from "./autoscaler_config.ts";
import type { AgentsMsg } from "./agents.ts";
import { createWebDeps } from "./web.ts";
import { startFolders } from "./folders/mod.ts";
import {
  cheapestGroupFor,
  IdlePauseCache,
  keypairCostStore,
} from "./cost_ports.ts";
import { createCostDeps } from "./cost_service.ts";
import { createActivityDeps } from "./activity.ts";

import { MANAGER_NODE, MANAGER_VERSION } from "./names.ts";

export { MANAGER_NODE, MANAGER_VERSION } from "./names.ts";

export interface ManagerCore {
  config: ManagerConfig;
  clusterSecret: string;
  admin: { accessKey: string; secretKey: string };
  store: Store;
  system: ActorSystem;
  cluster: Cluster;
  /** What the HTTP gateway calls. */
  deps: GatewayDeps;
  /** Tells the core which port the gateway serves (agents it starts dial it). */
  served(port: number): void;
  stop(): Promise<void>;
}

/** Default and minimum slots of an image, from its recipe. */
function imageResourcesOf(name: string): ImageResourceSpec {
  const recipe = recipeFor(name);
  const minMem = parseBinarySize(recipe?.minMem ?? "256m");
  const minCpu = recipe?.minCpu ?? 1;
  // Sessions that ask for nothing get the warm pool's shape, so they start from the pool.
  return {
    defaults: {
      cpu: Math.max(DEFAULT_KERNEL_SLOTS.cpu, minCpu),
      mem: Math.max(DEFAULT_KERNEL_SLOTS.mem, minMem),
    },
    minimums: { cpu: minCpu, mem: minMem },
  };
}

export async function startManagerCore(
  config: ManagerConfig,
): Promise<ManagerCore> {
  await Deno.mkdir(config.dataDir, { recursive: true });
  const store = await openStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    port: config.pgPort,
  });
  await store.ensureDefaults();
  const admin = await seedAdmin(store, config);
  const clusterSecret = config.clusterSecret ??
    await loadOrCreateSecret(`${config.dataDir}/cluster.secret`);
  // Driver failures as refusals: an outage fails requests (quickly, while
  // the gate is shut), not actors.
  const gate = new StoreGate(
    () => store.sql`select 1`,
    (line) => console.error(line),
  );
  const ports = refusingStoreFailures(storePorts(store), {
    gate,
    // A status change or a final usage must land: they wait out an outage.
    retry: ["transition", "recordUsage"],
    // Read once at start, one query per live session.
    slowMs: { listLive: 120_000 },
  });

  const system = new ActorSystem({ nodeId: MANAGER_NODE });
  const cluster = new Cluster(system, { secret: clusterSecret });
  cluster.registerSchema(PATHS.agents, RegistryMsg);
  cluster.registerSchema(`${PATHS.sessions}/`, SessionInbound);
  // Terminals and app tunnels (channel/actor.ts): what kernels tell their owners.
  cluster.registerSchema(CHANNELS_PATH, ChannelEvent);

  // Cost (keypair_cost.ts, cost_*.ts): the keypairs' live daily limit,
  // idle pause, the cheapest group; its store calls refuse while it is away.
  const events = createEventBus();
  const costStore = refusingStore(store, { gate });
  const idlePause = new IdlePauseCache(costStore);
  const keypairCost = {
    store: keypairCostStore(costStore),
    events,
    scheduler: system.refFor<SchedulerMsg>({
      node: MANAGER_NODE,
      path: PATHS.scheduler,
    }),
    session: (id: string) =>
      system.refFor<
        { type: "cost.limit"; action: "pause" | "terminate"; reason: string }
      >({
        node: MANAGER_NODE,
        path: PATHS.session(id),
      }),
  };
  const keypairs = system.entities<KeypairMsg>(
    "keypairs",
    (ak) => new KeypairActor(ak, ports, keypairCost),
    {
      idleMs: 20 * 60_000, // longer than the 15-minute rate window, so no window is forgotten early
    },
  );
  const agentRef = (id: string) =>
    system.refFor<AgentMsg>({ node: id, path: AGENT_PATHS.agent });
  const policyCache = new Map<
    string,
    { at: number; idle: number; life: number }
  >();
  const services: ManagerServices = {
    store: ports,
    scheduler: system.refFor<SchedulerMsg>({
      node: MANAGER_NODE,
      path: PATHS.scheduler,
    }),
    keypairs: {
      tell: (ak, msg) => keypairs.ref(ak).tell(msg),
      ask: (ak, msg) => keypairs.ref(ak).ask(msg, { timeoutMs: 15_000 }),
    },
    events,
    idlePauseSeconds: (ak) => idlePause.get(ak),
    scalingGroupFor: (slots) =>
      cheapestGroupFor(costStore, keypairCost.scheduler, slots).catch(
        () => undefined, // no prices or no answer: today's default
      ),
    agentRef,
    kernelRef: (agentId, kernelId) =>
      system.refFor<KernelMsg>({
        node: agentId,
        path: AGENT_PATHS.kernel(kernelId),
      }),
    expiry(row, now) {
      const p = policyCache.get(row.accessKey);
      if (!p) {
        // Refreshed in the background; the next tick decides with it (and
        // retries, when the database was away).
        void refreshPolicy(row.accessKey).catch(() => {});
        return undefined;
      }
      const v = decideExpiry({
        createdAt: row.createdAt,
        lastActivityAt: row.lastActivity,
        policy: { idle_timeout: p.idle, max_session_lifetime: p.life },
        now,
      });
      return v.expire ? v.reason : undefined;
    },
  };
  async function refreshPolicy(ak: string) {
    const kp = await ports.keypair(ak);
    const pol = kp && await ports.policy(kp.resourcePolicy);
    policyCache.set(ak, {
      at: Date.now(),
      idle: pol?.idle_timeout ?? 0,
      life: pol?.max_session_lifetime ?? 0,
    });
    setTimeout(() => policyCache.delete(ak), 60_000);
  }

  // Agents the autoscaler starts dial this manager where it listens.
  let servedPort = 0;
  const driver = new LocalProcessDriver({
    managerUrl: () => `ws://${dialHost(config.hostname)}:${servedPort}`,
    clusterSecret,
    dataDir: `${config.dataDir}/agents`,
  });
  const schedulerRef = system.refFor<SchedulerMsg>({
    node: MANAGER_NODE,
    path: PATHS.scheduler,
  });
  // Agent ids that do not collide with another cluster's on this Docker host.
  const idPrefix = await defaultIdPrefix(
    clusterSecret,
    resolve(config.dataDir),
  );
  // Virtual folders: the storage registry storage nodes join, the folder port.
  const folders = startFolders({ system, cluster, sql: store.sql });
  system.spawn(
    () =>
      managerRoot({
        autoscaler: {
          driver,
          registry: system.refFor<AgentsMsg>({
            node: MANAGER_NODE,
            path: PATHS.agents,
          }),
          scheduler: schedulerRef,
          liveSessions: () => ports.listLive(),
          defaultIdPrefix: idPrefix,
          async loadConfigs() {
            const out: Record<string, unknown> = {};
            for (const g of await store.scalingGroups.list()) {
              out[g.name] = g.autoscaler;
            }
            return out;
          },
        },
        services,
        sessionsStore: ports,
        agentsStore: ports,
        scheduler: {
          async loadKinds() {
            const groups = await store.scalingGroups.list();
            return Object.fromEntries(groups.map((g) => [g.name, g.scheduler]));
          },
          sessionRef: (id) =>
            system.refFor({ node: MANAGER_NODE, path: PATHS.session(id) }),
        },
        admit: (ak, id, slots, scalingGroup) =>
          keypairs.ref(ak).ask(
            { type: "admit", sessionId: id, slots, scalingGroup },
            { timeoutMs: 10_000 },
          ),
        catalog: {
          resolveImage: (name) => resolveImage(name)?.ref,
          imageResources: imageResourcesOf,
          resolveMounts: folders.resolveMounts,
        },
        agentRef,
      }),
    { name: "manager" },
  );

  const sessions = system.refFor<SessionsMsg>({
    node: MANAGER_NODE,
    path: PATHS.sessions,
  });
  const deps = createGatewayDeps({
    version: MANAGER_VERSION,
    keypair: (ak) => keypairs.ref(ak) as ActorRef<KeypairMsg>,
    sessions,
    events: services.events,
    admin: createAdminDeps({
      store: refusingStore(store, { gate }),
      system,
      keypairs,
      debugHooks: Deno.env.get("BAI_DEBUG_HOOKS") === "1",
    }),
  });
  // Unknown access keys must not each keep an actor alive (keypair_lookup.ts).
  deps.keypairs = {
    ...deps.keypairs,
    lookup: boundedKeypairLookup(keypairs).lookup,
  };
  deps.folders = folders.deps;
  deps.cost = createCostDeps({
    store: costStore,
    keypair: (ak) => keypairs.ref(ak),
    scheduler: keypairCost.scheduler,
    events,
    idle: idlePause,
  });
  deps.activity = createActivityDeps(sessions);
  deps.channels = createChannelDeps({
    sessions,
    channels: system.spawn(() => new ChannelsActor(), { name: "channels" }),
    kernelRef: services.kernelRef,
    secret: clusterSecret,
  });
  deps.web = createWebDeps({
    store,
    sessions,
    listAgents: () => deps.admin.listAgents(),
    imageResources: imageResourcesOf,
    storageNodes: () =>
      folders.registry.ask<{ url: string }[]>({ type: "list" }, {
        timeoutMs: 5000,
      }),
  });
  let stopped = false;
  return {
    config,
    clusterSecret,
    admin,
    store,
    system,
    cluster,
    deps,
    served(port) {
      servedPort = port;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await cluster.close();
      await system.shutdown({ deadlineMs: 5000 });
      await driver.close();
      await store.close();
    },
  };
}
