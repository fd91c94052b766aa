-- 0004_cost: what sessions cost and what the platform does about it
-- (policies/cost/, actors/manager/store/cost.ts).
--
-- * scaling_groups.prices: the group's hourly price table (cpu core-hour,
--   memory GiB-hour, each device slot per hour), validated by
--   PriceTableSchema before it is stored; null = not priced (free).
-- * keypair_cost_settings: a keypair's own daily limit (never above its
--   resource policy's daily_cost_limit; checked by the API), what the limit
--   does to running sessions, "maintain", its idle-pause time and the time
--   zone of its cost day. No row = the defaults.
-- * session_phases: when each session held its slots running (every slot
--   paid) or paused (SUSPENDED: memory paid only). The live daily limit and
--   the usage statistics are computed from these and the group's prices, so
--   a manager restart loses no cost. They are written by a trigger on
--   session_events, in the transaction of the status change itself, so no
--   code path can change a status without metering it.
-- * sessions.paused_ms: total paused time of closed paused phases.

ALTER TABLE scaling_groups ADD COLUMN prices jsonb;

CREATE TABLE keypair_cost_settings (
  access_key         char(20) PRIMARY KEY REFERENCES keypairs (access_key) ON DELETE CASCADE,
  daily_cost_limit   numeric(20, 6) CHECK (daily_cost_limit >= 0),   -- null = the policy's
  action             text NOT NULL DEFAULT 'pause' CHECK (action IN ('pause', 'terminate')),
  warn_ratio         double precision NOT NULL DEFAULT 0.8 CHECK (warn_ratio > 0 AND warn_ratio <= 1),
  maintain           boolean NOT NULL DEFAULT false,
  idle_pause_seconds integer NOT NULL DEFAULT 0 CHECK (idle_pause_seconds >= 0),  -- 0 = never
  time_zone          text NOT NULL DEFAULT 'UTC',
  updated_at         timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE sessions ADD COLUMN paused_ms bigint NOT NULL DEFAULT 0;

CREATE TABLE session_phases (
  id         bigserial PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  access_key char(20) NOT NULL,
  state      text NOT NULL CHECK (state IN ('running', 'paused')),
  started_at timestamptz NOT NULL,
  ended_at   timestamptz,             -- null while the session is in this phase
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX session_phases_access_key_ended ON session_phases (access_key, ended_at);
CREATE INDEX session_phases_ended ON session_phases (ended_at);
CREATE UNIQUE INDEX session_phases_one_open ON session_phases (session_id) WHERE ended_at IS NULL;

-- RUNNING opens a running phase, SUSPENDED a paused one (closing the other);
-- RESTARTING and RESIZING keep the phase (the slots stay held); any other
-- status (TERMINATING, an ended one) closes it.
CREATE FUNCTION session_phase_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  open_state   text;
  open_started timestamptz;
  want         text;
BEGIN
  IF NEW.status IN ('RESTARTING', 'RESIZING') THEN
    RETURN NULL;
  END IF;
  want := CASE NEW.status WHEN 'RUNNING' THEN 'running' WHEN 'SUSPENDED' THEN 'paused' END;
  SELECT state, started_at INTO open_state, open_started
    FROM session_phases WHERE session_id = NEW.session_id AND ended_at IS NULL;
  IF open_state IS NOT DISTINCT FROM want THEN
    RETURN NULL;
  END IF;
  IF open_state IS NOT NULL THEN
    UPDATE session_phases SET ended_at = greatest(NEW.at, started_at)
      WHERE session_id = NEW.session_id AND ended_at IS NULL;
    IF open_state = 'paused' THEN
      UPDATE sessions
        SET paused_ms = paused_ms + greatest(0, floor(extract(epoch FROM NEW.at - open_started) * 1000))::bigint
        WHERE id = NEW.session_id;
    END IF;
  END IF;
  IF want IS NOT NULL THEN
    INSERT INTO session_phases (session_id, access_key, state, started_at)
      SELECT s.id, s.access_key, want, NEW.at FROM sessions s WHERE s.id = NEW.session_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER session_phase_on_event
  AFTER INSERT ON session_events
  FOR EACH ROW EXECUTE FUNCTION session_phase_on_event();

-- Sessions that were live before this migration start metering now.
INSERT INTO session_phases (session_id, access_key, state, started_at)
  SELECT id, access_key, CASE WHEN status = 'SUSPENDED' THEN 'paused' ELSE 'running' END, now()
  FROM sessions WHERE status IN ('RUNNING', 'RESTARTING', 'RESIZING', 'SUSPENDED');
