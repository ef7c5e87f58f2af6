/**
 * Journal schema migrations, applied in order inside one transaction each. Never edit a shipped
 * migration: append a new one (an agent upgraded in place opens the old journal).
 */
import type { Migration } from '../../sqlite/index.js';

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'servers, operations, operation steps',
    sql: `
      CREATE TABLE servers (
        uuid TEXT PRIMARY KEY,
        spec TEXT NOT NULL,              -- ServerSpec JSON (kept current by attach/detach/rebuild/resize)
        status TEXT NOT NULL,            -- building | active | resized | error | deleted
        desired_power TEXT NOT NULL,     -- what the last operation intended
        power TEXT NOT NULL,             -- last known libvirt truth
        task TEXT,                       -- operation kind in progress
        op_id TEXT,                      -- operation in progress
        files TEXT NOT NULL DEFAULT '[]',-- files the agent created for this server (deleted on destroy)
        resize_old TEXT,                 -- JSON {xml, spec} saved by resize until confirm/revert
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE operations (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL UNIQUE,
        server_uuid TEXT NOT NULL,
        kind TEXT NOT NULL,
        params TEXT NOT NULL,
        state TEXT NOT NULL,             -- pending | running | succeeded | failed | rolled_back
        step TEXT NOT NULL DEFAULT 'accepted',
        progress INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL DEFAULT '{}', -- checkpoint the operation needs to resume or roll back
        result TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        finished_at TEXT
      );
      CREATE INDEX operations_server ON operations(server_uuid, created_at);
      CREATE INDEX operations_unfinished ON operations(state) WHERE state IN ('pending', 'running');
      CREATE TABLE operation_steps (
        op_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        at TEXT NOT NULL,
        detail TEXT,
        PRIMARY KEY (op_id, seq)
      );
    `,
  },
  {
    version: 2,
    name: 'index for pruning finished operations',
    sql: `CREATE INDEX operations_finished ON operations(finished_at) WHERE finished_at IS NOT NULL;`,
  },
  {
    version: 3,
    name: 'tenant networks given to this host, filter mark ids of ports (issue 12)',
    sql: `
      CREATE TABLE tenant_networks (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,              -- NetworkSpec JSON as last PUT by the controller
        local_ip TEXT,                   -- the VXLAN local address it was realised with
        updated_at TEXT NOT NULL
      );
      CREATE TABLE port_marks (
        port_id TEXT PRIMARY KEY,
        mark_id INTEGER NOT NULL UNIQUE  -- packet mark id of the port's filter (src/agent/network/names.ts)
      );
    `,
  },
];
