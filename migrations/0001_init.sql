-- 0001_init: the manager's first schema.
-- Applied once by actors/manager/store/migrate.ts inside a transaction and
-- recorded in schema_migrations. Never edit after release: add 0002_*.sql.

CREATE TABLE resource_policies (
  name                       text PRIMARY KEY,
  total_resource_slots       jsonb NOT NULL DEFAULT '{}'::jsonb,
  max_concurrent_sessions    integer NOT NULL DEFAULT 5,
  max_containers_per_session integer NOT NULL DEFAULT 1,
  idle_timeout               integer NOT NULL DEFAULT 1800,   -- seconds, 0 = none
  max_session_lifetime       integer NOT NULL DEFAULT 0,      -- seconds, 0 = none
  max_vfolder_count          integer NOT NULL DEFAULT 10,
  max_vfolder_size           bigint  NOT NULL DEFAULT 0,      -- bytes, 0 = unlimited
  daily_cost_limit           numeric(20, 6),                  -- null = unlimited
  created_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE keypairs (
  access_key      char(20) PRIMARY KEY,
  secret_key      varchar(40) NOT NULL,
  user_id         text NOT NULL,
  is_active       boolean NOT NULL DEFAULT true,
  is_admin        boolean NOT NULL DEFAULT false,
  rate_limit      integer NOT NULL DEFAULT 1000,
  resource_policy text NOT NULL REFERENCES resource_policies (name),
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE scaling_groups (
  name           text PRIMARY KEY,
  is_active      boolean NOT NULL DEFAULT true,
  scheduler      text NOT NULL DEFAULT 'fifo' CHECK (scheduler IN ('fifo', 'lifo', 'drf')),
  scheduler_opts jsonb NOT NULL DEFAULT '{}'::jsonb,
  autoscaler     jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
  id              text PRIMARY KEY,
  addr            text NOT NULL,
  region          text NOT NULL DEFAULT 'local',
  scaling_group   text NOT NULL REFERENCES scaling_groups (name),
  status          text NOT NULL DEFAULT 'ALIVE' CHECK (status IN ('ALIVE', 'LOST', 'TERMINATED', 'DRAINING')),
  schedulable     boolean NOT NULL DEFAULT true,
  resource_slots  jsonb NOT NULL DEFAULT '{}'::jsonb,
  available_slots jsonb NOT NULL DEFAULT '{}'::jsonb,
  occupied_slots  jsonb NOT NULL DEFAULT '{}'::jsonb,
  architecture    text NOT NULL DEFAULT 'x86_64',
  images          jsonb NOT NULL DEFAULT '[]'::jsonb,
  version         text NOT NULL DEFAULT '',
  compute_plugins jsonb NOT NULL DEFAULT '{}'::jsonb,
  first_contact   timestamptz NOT NULL DEFAULT now(),
  last_seen       timestamptz NOT NULL DEFAULT now(),
  lost_at         timestamptz
);
CREATE INDEX agents_scaling_group_status ON agents (scaling_group, status);

CREATE TABLE sessions (
  id              uuid PRIMARY KEY,
  name            text NOT NULL,
  access_key      char(20) NOT NULL REFERENCES keypairs (access_key),
  image           text NOT NULL,
  type            text NOT NULL DEFAULT 'interactive' CHECK (type IN ('interactive', 'batch', 'inference')),
  status          text NOT NULL DEFAULT 'PENDING' CHECK (status IN (
                    'PENDING', 'SCHEDULED', 'PREPARING', 'BUILDING', 'PULLING', 'RUNNING',
                    'RESTARTING', 'RESIZING', 'SUSPENDED', 'TERMINATING', 'TERMINATED',
                    'ERROR', 'CANCELLED')),
  status_info     text,
  occupied_slots  jsonb NOT NULL DEFAULT '{}'::jsonb,
  requested_slots jsonb NOT NULL DEFAULT '{}'::jsonb,
  agent_id        text REFERENCES agents (id),
  scaling_group   text NOT NULL REFERENCES scaling_groups (name),
  config          jsonb NOT NULL DEFAULT '{}'::jsonb,
  tag             text,
  protected       boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  terminated_at   timestamptz,
  num_queries     bigint NOT NULL DEFAULT 0,
  last_stat       jsonb,
  last_activity   timestamptz NOT NULL DEFAULT now()
);
-- One LIVE session per (access_key, name): a name is free again once its
-- session ended. Keep the list in step with ENDED_STATUSES in transitions.ts.
CREATE UNIQUE INDEX sessions_live_name
  ON sessions (access_key, name)
  WHERE status NOT IN ('TERMINATED', 'CANCELLED', 'ERROR');
CREATE INDEX sessions_access_key_created ON sessions (access_key, created_at DESC);
CREATE INDEX sessions_status ON sessions (status);

-- Every status transition of a session, in order.
CREATE TABLE session_events (
  id         bigserial PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  status     text NOT NULL,
  reason     text,
  at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX session_events_session ON session_events (session_id, id);

CREATE TABLE kernels (
  id             uuid PRIMARY KEY,
  session_id     uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  agent_id       text REFERENCES agents (id),
  container_id   text,
  image          text NOT NULL,
  status         text NOT NULL DEFAULT 'PENDING',
  occupied_slots jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  terminated_at  timestamptz
);
CREATE INDEX kernels_session ON kernels (session_id);
CREATE INDEX kernels_agent ON kernels (agent_id);

CREATE TABLE usage_records (
  id           bigserial PRIMARY KEY,
  kernel_id    uuid,
  session_id   uuid NOT NULL,
  access_key   char(20) NOT NULL,
  cpu_ms       bigint NOT NULL DEFAULT 0,
  mem_peak_kib bigint NOT NULL DEFAULT 0,
  mem_kib_ms   numeric(30, 0) NOT NULL DEFAULT 0,
  io_read      bigint NOT NULL DEFAULT 0,
  io_write     bigint NOT NULL DEFAULT 0,
  gpu_ms       bigint NOT NULL DEFAULT 0,
  started_at   timestamptz NOT NULL,
  ended_at     timestamptz NOT NULL,
  cost         numeric(20, 6) NOT NULL DEFAULT 0
);
CREATE INDEX usage_records_access_key_ended ON usage_records (access_key, ended_at);
CREATE INDEX usage_records_session ON usage_records (session_id);

CREATE TABLE vfolders (
  id         uuid PRIMARY KEY,
  name       text NOT NULL,
  host       text NOT NULL DEFAULT 'local',
  access_key char(20) NOT NULL REFERENCES keypairs (access_key) ON DELETE CASCADE,
  permission text NOT NULL DEFAULT 'rw' CHECK (permission IN ('ro', 'rw', 'wd')),
  quota      bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (access_key, name)
);
