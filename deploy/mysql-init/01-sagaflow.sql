-- Run once by the mysql image's entrypoint (mounted into /docker-entrypoint-initdb.d) when the data volume is empty.
-- Changing it later has no effect on an existing volume: `docker compose down -v` to start over.
--
-- sagaflow: the application's database; its tables are created by the `migrate` service (umzug), not here.
CREATE DATABASE IF NOT EXISTS `sagaflow` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'sagaflow'@'%' IDENTIFIED BY 'sagaflow';
GRANT ALL PRIVILEGES ON `sagaflow`.* TO 'sagaflow'@'%';

-- temporal: the Temporal server's own account. temporalio/auto-setup creates and migrates both databases itself
-- (persistence and SQL visibility); it needs no privilege outside them.
CREATE USER IF NOT EXISTS 'temporal'@'%' IDENTIFIED BY 'temporal';
GRANT ALL PRIVILEGES ON `temporal`.* TO 'temporal'@'%';
GRANT ALL PRIVILEGES ON `temporal_visibility`.* TO 'temporal'@'%';

FLUSH PRIVILEGES;
