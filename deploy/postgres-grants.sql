-- The monitor's role on a PostgreSQL database owned by another role (docs/deploy.md, The audit log): everything the
-- services need, and no way to change or remove the record (audit, actions) or its chain heads. Run as the owner or a
-- superuser, connected to the monitor's database, after every `db upgrade`:
--     psql monitor --file deploy/postgres-grants.sql
-- The role is `monitor` (to grant another: psql --set role=NAME). Tables in the current schema (search_path).
\if :{?role}
\else
\set role monitor
\endif
SELECT set_config('monitor.grantee', :'role', false);
DO $$
DECLARE
    s text := current_schema();
    r text := current_setting('monitor.grantee');
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, r);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s, r);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', s, r);
    -- the schema's revision: read at every start, written only by the owner's `db upgrade`
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %I.alembic_version FROM %I', s, r);
    -- the record: appended to, never changed or removed
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I.audit, %I.actions, %I.chain_heads FROM %I', s, s, s, r);
    EXECUTE format('GRANT UPDATE (applied_at, error) ON %I.actions TO %I', s, r);  -- ingest: folded in, or why not
    EXECUTE format('GRANT UPDATE (rows, last) ON %I.chain_heads TO %I', s, r);  -- each append moves its chain's head
END $$;
