/**
 * The subset of Backend.AI's admin GraphQL schema that the 22.03.2 Python
 * SDK and CLI query and mutate (`func/*.py`, `cli/admin/*.py`,
 * `cli/session.py`), written from what those clients select. Names are
 * snake_case as Backend.AI serves them (graphene with `auto_camelcase`
 * off).
 *
 * JSON-valued fields (`occupied_slots`, `status_data`, `driver_opts`,
 * `live_stat`, ...) are strings holding JSON, as Backend.AI's `JSONString`
 * fields are: the CLI's formatters `json.loads` them. Byte counts are
 * `BigInt` (GraphQL's `Int` is 32-bit).
 *
 * @module
 */
import { buildSchema, type GraphQLSchema } from "graphql";

/** The schema in SDL. */
export const SCHEMA_SDL = /* GraphQL */ `
"""A UUID in its text form."""
scalar UUID
"""An integer that may exceed 32 bits (byte counts)."""
scalar BigInt

type Query {
  """The calling keypair, or another one for admins."""
  keypair(domain_name: String, access_key: String): KeyPair
  """Admin only."""
  keypairs(domain_name: String, email: String, is_active: Boolean): [KeyPair]
  """Admin only."""
  keypair_list(
    limit: Int!, offset: Int!, filter: String, order: String,
    domain_name: String, email: String, is_active: Boolean
  ): KeyPairList
  """The caller's own policy by default; another one for admins."""
  keypair_resource_policy(name: String): KeyPairResourcePolicy
  """Admin only."""
  keypair_resource_policies: [KeyPairResourcePolicy]
  """Admin only."""
  agent(agent_id: String!): Agent
  """Admin only."""
  agents(scaling_group: String, status: String): [Agent]
  """Admin only."""
  agent_list(
    limit: Int!, offset: Int!, filter: String, order: String,
    scaling_group: String, status: String
  ): AgentList
  image(reference: String!, architecture: String): Image
  images(is_installed: Boolean, is_operation: Boolean): [Image]
  """Admin only."""
  scaling_group(name: String): ScalingGroup
  """Admin only."""
  scaling_groups(name: String, is_active: Boolean): [ScalingGroup]
  """A session of the caller's keypair (any keypair's for admins)."""
  compute_session(id: UUID!): ComputeSession
  """
  Sessions of the caller's keypair; admins see every keypair's, or the one
  access_key names. status is a comma-separated list.
  """
  compute_session_list(
    limit: Int!, offset: Int!, filter: String, order: String,
    domain_name: String, group_id: String, access_key: String, status: String
  ): ComputeSessionList
  """
  The caller's virtual folders; admins may name another keypair's
  access_key. Group folders are not supported: a group_id gives an empty page.
  """
  vfolder_list(
    limit: Int!, offset: Int!, filter: String, order: String,
    domain_name: String, group_id: UUID, access_key: String
  ): VirtualFolderList
}

type VirtualFolder {
  id: UUID
  host: String
  name: String
  user: UUID
  group: UUID
  creator: String
  unmanaged_path: String
  usage_mode: String
  permission: String
  ownership_type: String
  max_files: Int
  max_size: BigInt
  created_at: String
  last_used: String
  num_files: Int
  cur_size: BigInt
  cloneable: Boolean
}

type VirtualFolderList {
  items: [VirtualFolder]!
  total_count: Int!
}

"""Every mutation is admin only."""
type Mutation {
  create_keypair(user_id: String!, props: KeyPairInput!): CreateKeyPair
  modify_keypair(access_key: String!, props: ModifyKeyPairInput!): SimpleResult
  delete_keypair(access_key: String!): SimpleResult
  create_keypair_resource_policy(
    name: String!, props: CreateKeyPairResourcePolicyInput!
  ): CreateKeyPairResourcePolicy
  modify_keypair_resource_policy(
    name: String!, props: ModifyKeyPairResourcePolicyInput!
  ): SimpleResult
  delete_keypair_resource_policy(name: String!): SimpleResult
  create_scaling_group(
    name: String!, props: CreateScalingGroupInput!
  ): CreateScalingGroup
  modify_scaling_group(
    name: String!, props: ModifyScalingGroupInput!
  ): SimpleResult
}

type UserInfo {
  email: String
  full_name: String
}

type KeyPair {
  user_id: String
  user_info: UserInfo
  access_key: String
  """Shown once, in create_keypair's answer; null everywhere else."""
  secret_key: String
  is_active: Boolean
  is_admin: Boolean
  resource_policy: String
  rate_limit: Int
  concurrency_limit: Int
  concurrency_used: Int
  num_queries: BigInt
  created_at: String
  modified_at: String
  last_used: String
  ssh_public_key: String
  ssh_private_key: String
  dotfiles: String
  bootstrap_script: String
  domain_name: String
}

type KeyPairList {
  items: [KeyPair]!
  total_count: Int!
}

type KeyPairResourcePolicy {
  name: String
  created_at: String
  default_for_unspecified: String
  total_resource_slots: String
  max_session_lifetime: Int
  max_concurrent_sessions: Int
  max_containers_per_session: Int
  idle_timeout: BigInt
  max_vfolder_count: Int
  max_vfolder_size: BigInt
  allowed_vfolder_hosts: [String]
}

type Agent {
  id: String
  status: String
  status_changed: String
  region: String
  architecture: String
  scaling_group: String
  schedulable: Boolean
  available_slots: String
  occupied_slots: String
  addr: String
  first_contact: String
  lost_at: String
  live_stat: String
  version: String
  compute_plugins: String
  hardware_metadata: String
  compute_containers(status: String): [ComputeContainer]
  cpu_cur_pct: Float
  mem_cur_bytes: BigInt
}

type AgentList {
  items: [Agent]!
  total_count: Int!
}

type KVPair {
  key: String
  value: String
}

type ResourceLimit {
  key: String
  min: String
  max: String
}

type Image {
  name: String
  humanized_name: String
  tag: String
  registry: String
  architecture: String
  digest: String
  size_bytes: BigInt
  aliases: [String]
  labels: [KVPair]
  resource_limits: [ResourceLimit]
  supported_accelerators: [String]
  installed: Boolean
  installed_agents: [String]
}

type ScalingGroup {
  name: String
  description: String
  is_active: Boolean
  created_at: String
  driver: String
  driver_opts: String
  scheduler: String
  scheduler_opts: String
  wsproxy_addr: String
}

type ComputeContainer {
  id: UUID
  idx: Int
  role: String
  hostname: String
  cluster_role: String
  cluster_idx: Int
  cluster_hostname: String
  session_id: UUID
  image: String
  registry: String
  status: String
  status_info: String
  status_data: String
  status_changed: String
  agent: String
  container_id: String
  resource_opts: String
  occupied_slots: String
  live_stat: String
  last_stat: String
}

type ComputeSession {
  id: UUID
  session_id: UUID
  name: String
  tag: String
  type: String
  image: String
  registry: String
  cluster_template: String
  cluster_mode: String
  cluster_size: Int
  domain_name: String
  group_name: String
  group_id: UUID
  user_email: String
  user_id: String
  access_key: String
  created_user_email: String
  created_user_id: String
  status: String
  status_info: String
  status_data: String
  status_changed: String
  created_at: String
  terminated_at: String
  starts_at: String
  startup_command: String
  result: String
  resource_opts: String
  "The 22.03.2 CLI's own spelling of resource_opts."
  resoucre_opts: String
  scaling_group: String
  service_ports: String
  mounts: [String]
  occupied_slots: String
  num_queries: BigInt
  containers: [ComputeContainer]
  dependencies: [ComputeSession]
}

type ComputeSessionList {
  items: [ComputeSession]!
  total_count: Int!
}

type SimpleResult {
  ok: Boolean
  msg: String
}

type CreateKeyPair {
  ok: Boolean
  msg: String
  keypair: KeyPair
}

type CreateKeyPairResourcePolicy {
  ok: Boolean
  msg: String
  resource_policy: KeyPairResourcePolicy
}

type CreateScalingGroup {
  ok: Boolean
  msg: String
  scaling_group: ScalingGroup
}

input KeyPairInput {
  is_active: Boolean
  is_admin: Boolean
  resource_policy: String
  concurrency_limit: Int
  rate_limit: Int
}

input ModifyKeyPairInput {
  is_active: Boolean
  is_admin: Boolean
  resource_policy: String
  concurrency_limit: Int
  rate_limit: Int
}

input CreateKeyPairResourcePolicyInput {
  default_for_unspecified: String
  """JSON text: slot name → amount."""
  total_resource_slots: String
  max_session_lifetime: Int
  max_concurrent_sessions: Int
  max_containers_per_session: Int
  idle_timeout: BigInt
  max_vfolder_count: Int
  max_vfolder_size: BigInt
  allowed_vfolder_hosts: [String]
}

input ModifyKeyPairResourcePolicyInput {
  default_for_unspecified: String
  total_resource_slots: String
  max_session_lifetime: Int
  max_concurrent_sessions: Int
  max_containers_per_session: Int
  idle_timeout: BigInt
  max_vfolder_count: Int
  max_vfolder_size: BigInt
  allowed_vfolder_hosts: [String]
}

input CreateScalingGroupInput {
  description: String
  is_active: Boolean
  driver: String
  """JSON text."""
  driver_opts: String
  scheduler: String
  """JSON text."""
  scheduler_opts: String
}

input ModifyScalingGroupInput {
  description: String
  is_active: Boolean
  driver: String
  driver_opts: String
  scheduler: String
  scheduler_opts: String
}
`;

let built: GraphQLSchema | undefined;

/** The executable schema (built once; resolvers come as the root value). */
export function adminSchema(): GraphQLSchema {
  built ??= buildSchema(SCHEMA_SDL);
  return built;
}
