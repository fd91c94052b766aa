-- Scheduler kinds are validated by the policy registry
-- (policies/scheduling/registry.ts, SCHEDULER_KINDS), so a new scheduling
-- policy needs no schema change. Postgres named the inline CHECK of
-- 0001_init.sql after the table and column.
ALTER TABLE scaling_groups DROP CONSTRAINT IF EXISTS scaling_groups_scheduler_check;
