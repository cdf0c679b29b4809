-- Run once by the mysql image's entrypoint (mounted into /docker-entrypoint-initdb.d) on both domain servers when the
-- data volume is empty. Changing it later has no effect on an existing volume: `docker compose down -v` to start over.
--
-- sagaflow: the application's account. It owns every `sagaflow_*` database (the migrate service creates those it is
-- given, e.g. sagaflow_ledger_0 and sagaflow_orders on one server; their tables come from each domain's migrations).
-- Temporal keeps its own data in PostgreSQL, not here.
CREATE USER IF NOT EXISTS 'sagaflow'@'%' IDENTIFIED BY 'sagaflow';
GRANT ALL PRIVILEGES ON `sagaflow\_%`.* TO 'sagaflow'@'%';
-- XA transfers: MySQL 8 lets only XA_RECOVER_ADMIN run XA RECOVER, which the workers' XA recovery job needs (it
-- lists the server's prepared branches and resolves this deployment's; see the README, "XA on MySQL 8"). A dynamic,
-- global privilege: granted on *.*, it gives no access to any table. (MariaDB has no such privilege: leave it out there.)
GRANT XA_RECOVER_ADMIN ON *.* TO 'sagaflow'@'%';

FLUSH PRIVILEGES;
