-- 0003_vfolders: what virtual folders need beyond 0001's table.
-- Folders live on storage hosts owned by storage nodes; a row is the
-- manager's record of one (its bytes are on the host, under its id).

ALTER TABLE vfolders
  ADD COLUMN usage_mode text NOT NULL DEFAULT 'general'
    CHECK (usage_mode IN ('general', 'data', 'model')),
  ADD COLUMN cloneable  boolean NOT NULL DEFAULT false,
  -- 'creating' until the storage node made its dir; 'deleting' while it goes.
  ADD COLUMN status     text NOT NULL DEFAULT 'ready'
    CHECK (status IN ('creating', 'ready', 'deleting')),
  -- Last usage the storage node reported (bytes), and when.
  ADD COLUMN used_bytes bigint,
  ADD COLUMN usage_at   timestamptz,
  -- Last time a session mounted it.
  ADD COLUMN last_used  timestamptz;

CREATE INDEX vfolders_host ON vfolders (host);

-- Scratch quota of each kernel's /home/work (bytes; 0 = the agent's default).
ALTER TABLE resource_policies
  ADD COLUMN max_scratch_size bigint NOT NULL DEFAULT 0;
