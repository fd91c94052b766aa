-- 0006_agent_status: why an agent is in its status, and who drained it.
-- status_info: the reason in words ("stopped by scale-in at the drain
--   deadline of group default", "agent stopped by an administrator",
--   "connection lost"), shown by GET /x/admin/agents.
-- drained_by / drain_reason / drain_started_at: the drain in force, kept
--   across manager restarts, so the autoscaler knows a drain of its own
--   (which it may undo when demand returns) from an operator's cordon (which
--   it never undoes), and a drain deadline counts from when draining began,
--   not from when the manager last started. Cleared on undrain and when the
--   agent leaves for good (TERMINATED).
ALTER TABLE agents ADD COLUMN status_info text;
ALTER TABLE agents ADD COLUMN drained_by text
  CHECK (drained_by IN ('scale-in', 'admin', 'agent'));
ALTER TABLE agents ADD COLUMN drain_reason text;
ALTER TABLE agents ADD COLUMN drain_started_at timestamptz;
