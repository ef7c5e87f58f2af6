/**
 * The PostgreSQL schema history: entry i is version i + 1, the same numbers and the same tables and columns as
 * SQLite's MIGRATIONS (sqlite/migrations.ts), so that one SQL text (server-query.ts, columns.ts) runs on both.
 * Differences, each for the same behaviour: booleans stay INTEGER 0/1 (the shared SQL compares `deleted = 0`),
 * JSON stays TEXT (the `json` text of a server's metadata keeps its keys in order, jsonb would reorder them),
 * AUTOINCREMENT is an identity column, REAL is DOUBLE PRECISION (REAL is 4 bytes in PostgreSQL), and the revision
 * trigger is PL/pgSQL. Never edit a released entry; append one (and the SQLite one of the same number).
 */

/** A server row's metadata (JSON object, keys in byte order) and tags (JSON array, sorted) from the child tables. */
export const METADATA_JSON = `(SELECT COALESCE(json_object_agg(key, value ORDER BY key COLLATE "C"), '{}')::text FROM server_metadata m WHERE m.server_id = servers.id)`;
export const TAGS_JSON = `(SELECT COALESCE(json_agg(tag ORDER BY tag COLLATE "C"), '[]')::text FROM server_tags t WHERE t.server_id = servers.id)`;

export const PG_MIGRATIONS: string[] = [
  // 1: identity, flavors, keypairs, images, servers, instance actions, quotas
  `
  CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE domains (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
  CREATE TABLE projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL REFERENCES domains(id),
    enabled INTEGER NOT NULL DEFAULT 1, description TEXT NOT NULL DEFAULT '', UNIQUE (domain_id, name));
  CREATE TABLE users (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, domain_id TEXT NOT NULL REFERENCES domains(id),
    password_hash TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, default_project_id TEXT,
    tokens_valid_after TEXT NOT NULL, UNIQUE (domain_id, name));
  CREATE TABLE roles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE role_assignments (
    user_id TEXT NOT NULL REFERENCES users(id), project_id TEXT NOT NULL REFERENCES projects(id),
    role_id TEXT NOT NULL REFERENCES roles(id), PRIMARY KEY (user_id, project_id, role_id));
  CREATE TABLE revoked_tokens (token_id TEXT PRIMARY KEY, expires_at TEXT NOT NULL);

  CREATE TABLE flavors (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, vcpus INTEGER NOT NULL, ram INTEGER NOT NULL,
    disk INTEGER NOT NULL, ephemeral INTEGER NOT NULL DEFAULT 0, swap INTEGER NOT NULL DEFAULT 0,
    rxtx_factor DOUBLE PRECISION NOT NULL DEFAULT 1.0, is_public INTEGER NOT NULL DEFAULT 1, description TEXT,
    disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
  CREATE TABLE flavor_extra_specs (
    flavor_id TEXT NOT NULL REFERENCES flavors(id) ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (flavor_id, key));

  CREATE TABLE keypairs (
    user_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, public_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (user_id, name));

  CREATE TABLE images (
    id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, visibility TEXT NOT NULL, owner TEXT,
    disk_format TEXT, container_format TEXT, size BIGINT, checksum TEXT, os_hash_algo TEXT, os_hash_value TEXT,
    min_disk INTEGER NOT NULL DEFAULT 0, min_ram INTEGER NOT NULL DEFAULT 0, protected INTEGER NOT NULL DEFAULT 0,
    properties TEXT NOT NULL DEFAULT '{}', tags TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX images_name ON images(name);

  CREATE TABLE servers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
    image_ref TEXT NOT NULL, flavor_id TEXT NOT NULL, flavor TEXT NOT NULL, old_flavor TEXT,
    vm_state TEXT NOT NULL, task_state TEXT, power_state INTEGER NOT NULL, status TEXT NOT NULL,
    host TEXT, node TEXT, availability_zone TEXT, key_name TEXT, key_data TEXT, user_data TEXT,
    access_ipv4 TEXT NOT NULL DEFAULT '', access_ipv6 TEXT NOT NULL DEFAULT '', config_drive TEXT NOT NULL DEFAULT '',
    disk_config TEXT NOT NULL DEFAULT 'MANUAL', description TEXT,
    locked INTEGER NOT NULL DEFAULT 0, locked_reason TEXT, locked_by TEXT,
    reservation_id TEXT NOT NULL, launch_index INTEGER NOT NULL DEFAULT 0, hostname TEXT NOT NULL,
    kernel_id TEXT NOT NULL DEFAULT '', ramdisk_id TEXT NOT NULL DEFAULT '', root_device_name TEXT,
    progress INTEGER NOT NULL DEFAULT 0,
    addresses TEXT NOT NULL DEFAULT '[]', ips4 TEXT NOT NULL DEFAULT '', ips6 TEXT NOT NULL DEFAULT '',
    requested_networks TEXT, security_groups TEXT NOT NULL DEFAULT '[]', bdm TEXT NOT NULL DEFAULT '[]',
    fault TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, launched_at TEXT, terminated_at TEXT, deleted_at TEXT,
    deleted INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX servers_project_created ON servers(project_id, deleted, created_at DESC, id DESC);
  CREATE INDEX servers_created ON servers(deleted, created_at DESC, id DESC);
  CREATE INDEX servers_updated ON servers(updated_at);
  CREATE INDEX servers_name ON servers(name);
  CREATE INDEX servers_status ON servers(status);
  CREATE INDEX servers_host ON servers(host);
  CREATE INDEX servers_reservation ON servers(reservation_id);
  CREATE INDEX servers_image ON servers(image_ref);
  CREATE INDEX servers_flavor ON servers(flavor_id);
  CREATE INDEX servers_vm_state_deleted_at ON servers(vm_state, deleted_at);

  CREATE TABLE server_metadata (
    server_id TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (server_id, key));
  CREATE TABLE server_tags (
    server_id TEXT NOT NULL REFERENCES servers(id) ON DELETE CASCADE, tag TEXT NOT NULL,
    PRIMARY KEY (server_id, tag));
  CREATE INDEX server_tags_tag ON server_tags(tag);

  CREATE TABLE instance_actions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, server_id TEXT NOT NULL, action TEXT NOT NULL,
    request_id TEXT NOT NULL, user_id TEXT NOT NULL, project_id TEXT NOT NULL, start_time TEXT NOT NULL,
    finish_time TEXT, message TEXT, updated_at TEXT NOT NULL);
  CREATE INDEX instance_actions_server ON instance_actions(server_id, start_time);
  CREATE TABLE instance_action_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, action_id BIGINT NOT NULL REFERENCES instance_actions(id),
    event TEXT NOT NULL, start_time TEXT NOT NULL, finish_time TEXT, result TEXT, traceback TEXT, host TEXT);
  CREATE INDEX instance_action_events_action ON instance_action_events(action_id);

  CREATE TABLE quota_limits (project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit INTEGER NOT NULL,
    PRIMARY KEY (project_id, resource));
  `,
  // 2: quota usage without parsing every server's flavor JSON; name sort index
  `
  ALTER TABLE servers ADD COLUMN vcpus INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE servers ADD COLUMN memory_mb INTEGER NOT NULL DEFAULT 0;
  UPDATE servers SET vcpus = (flavor::json->>'vcpus')::int, memory_mb = (flavor::json->>'ram')::int;
  CREATE INDEX servers_project_usage ON servers(project_id, deleted, vcpus, memory_mb);
  CREATE INDEX servers_project_name ON servers(project_id, deleted, name, id);
  `,
  // 3: hosts (compute services + hypervisors), registered by agents' heartbeats
  `
  CREATE TABLE hosts (
    name TEXT PRIMARY KEY, service_id TEXT NOT NULL UNIQUE, hypervisor_id TEXT NOT NULL UNIQUE,
    disabled INTEGER NOT NULL DEFAULT 0, disabled_reason TEXT, forced_down INTEGER NOT NULL DEFAULT 0, last_seen_at TEXT,
    vcpus INTEGER NOT NULL DEFAULT 0, memory_mb INTEGER NOT NULL DEFAULT 0, disk_gb INTEGER NOT NULL DEFAULT 0,
    hypervisor_type TEXT NOT NULL DEFAULT 'QEMU', hypervisor_version BIGINT NOT NULL DEFAULT 0, host_ip TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  `,
  // 4: fixed IPs handed out on the configured networks
  `
  CREATE TABLE fixed_ips (
    network_id TEXT NOT NULL, address TEXT NOT NULL, server_id TEXT NOT NULL, mac TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (network_id, address));
  CREATE INDEX fixed_ips_server ON fixed_ips(server_id);
  `,
  // 5: each server's metadata and tags also as JSON on its row, so a list page is one query
  `
  ALTER TABLE servers ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
  ALTER TABLE servers ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
  UPDATE servers SET metadata = ${METADATA_JSON}, tags = ${TAGS_JSON};
  `,
  // 6: a revision per server row, raised by every UPDATE of the row (whoever writes it) unless the UPDATE sets it
  `
  ALTER TABLE servers ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
  CREATE FUNCTION servers_revision() RETURNS trigger LANGUAGE plpgsql AS $fn$
  BEGIN
    IF NEW.revision = OLD.revision THEN NEW.revision := OLD.revision + 1; END IF;
    RETURN NEW;
  END
  $fn$;
  CREATE TRIGGER servers_revision BEFORE UPDATE ON servers FOR EACH ROW EXECUTE FUNCTION servers_revision();
  `,
  // 7: persisted tasks and claims as rows (an allocation per server, a usage row per host)
  `
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY, server_id TEXT NOT NULL, kind TEXT NOT NULL, step INTEGER NOT NULL DEFAULT 0,
    params TEXT NOT NULL DEFAULT '{}', data TEXT NOT NULL DEFAULT '{}', request_id TEXT NOT NULL, user_id TEXT NOT NULL,
    project_id TEXT NOT NULL, action_id BIGINT NOT NULL, event_id BIGINT NOT NULL, owner TEXT NOT NULL,
    lease_until BIGINT NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX tasks_server ON tasks(server_id);
  CREATE INDEX tasks_lease ON tasks(lease_until);
  CREATE INDEX tasks_owner ON tasks(owner);
  CREATE TABLE allocations (
    server_id TEXT PRIMARY KEY, host TEXT NOT NULL, vcpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL,
    disk_gb INTEGER NOT NULL, created_at TEXT NOT NULL);
  CREATE INDEX allocations_host ON allocations(host);
  CREATE TABLE host_usage (
    host TEXT PRIMARY KEY, instances INTEGER NOT NULL DEFAULT 0, vcpus INTEGER NOT NULL DEFAULT 0,
    memory_mb INTEGER NOT NULL DEFAULT 0, disk_gb INTEGER NOT NULL DEFAULT 0);
  INSERT INTO allocations (server_id, host, vcpus, memory_mb, disk_gb, created_at)
    SELECT id, host, vcpus, memory_mb, COALESCE((flavor::json->>'disk')::int, 0) + COALESCE((flavor::json->>'ephemeral')::int, 0), created_at
    FROM servers WHERE host IS NOT NULL AND deleted = 0;
  INSERT INTO host_usage (host, instances, vcpus, memory_mb, disk_gb)
    SELECT host, COUNT(*), SUM(vcpus), SUM(memory_mb), SUM(disk_gb) FROM allocations GROUP BY host;
  `,
  // 8: server groups (os-server-groups) and their members
  `
  CREATE TABLE server_groups (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL, policy TEXT NOT NULL,
    rules TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL);
  CREATE INDEX server_groups_project ON server_groups(project_id);
  CREATE TABLE server_group_members (
    group_id TEXT NOT NULL, server_id TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (group_id, server_id));
  CREATE INDEX server_group_members_server ON server_group_members(server_id);
  `,
  // 9: migration records (cold/live migration, resize, evacuation) with the live migration monitor's progress
  `
  CREATE TABLE migrations (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, server_id TEXT NOT NULL,
    source_compute TEXT, source_node TEXT, dest_compute TEXT, dest_node TEXT, dest_host TEXT,
    old_flavor_id TEXT, new_flavor_id TEXT, status TEXT NOT NULL, migration_type TEXT NOT NULL,
    project_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    memory_total BIGINT, memory_processed BIGINT, memory_remaining BIGINT,
    disk_total BIGINT, disk_processed BIGINT, disk_remaining BIGINT);
  CREATE INDEX migrations_server ON migrations(server_id);
  CREATE INDEX migrations_status ON migrations(status, updated_at);
  CREATE INDEX migrations_created ON migrations(created_at, id);
  `,
  // 10: Neutron's resources (issue 12): networks (a VXLAN id unique per network), subnets, ports and their fixed IPs
  // ((subnet, address) unique: never a duplicate address), MACs unique per network, security groups and rules, one
  // default group per project
  `
  CREATE TABLE networks (
    id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', project_id TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    shared INTEGER NOT NULL DEFAULT 0, admin_state_up INTEGER NOT NULL DEFAULT 1, mtu INTEGER NOT NULL,
    network_type TEXT NOT NULL, physical_network TEXT, vni INTEGER UNIQUE, router_external INTEGER NOT NULL DEFAULT 0,
    port_security_enabled INTEGER NOT NULL DEFAULT 1, legacy_bridge TEXT, legacy_libvirt_network TEXT,
    is_default INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 1);
  CREATE INDEX networks_project ON networks(project_id);
  CREATE TABLE subnets (
    id TEXT PRIMARY KEY, network_id TEXT NOT NULL REFERENCES networks(id), project_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', cidr TEXT NOT NULL, ip_version INTEGER NOT NULL,
    gateway_ip TEXT, enable_dhcp INTEGER NOT NULL DEFAULT 1, allocation_pools TEXT NOT NULL DEFAULT '[]',
    dns_nameservers TEXT NOT NULL DEFAULT '[]', host_routes TEXT NOT NULL DEFAULT '[]', ipv6_address_mode TEXT,
    ipv6_ra_mode TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 1);
  CREATE INDEX subnets_network ON subnets(network_id);
  CREATE TABLE ports (
    id TEXT PRIMARY KEY, network_id TEXT NOT NULL REFERENCES networks(id), project_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', mac_address TEXT NOT NULL,
    device_id TEXT NOT NULL DEFAULT '', device_owner TEXT NOT NULL DEFAULT '', host_id TEXT NOT NULL DEFAULT '',
    admin_state_up INTEGER NOT NULL DEFAULT 1, port_security_enabled INTEGER NOT NULL DEFAULT 1,
    security_groups TEXT NOT NULL DEFAULT '[]', delete_with_device INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 1,
    UNIQUE (network_id, mac_address));
  CREATE INDEX ports_device ON ports(device_id);
  CREATE INDEX ports_project ON ports(project_id);
  CREATE TABLE port_ips (
    port_id TEXT NOT NULL REFERENCES ports(id), subnet_id TEXT NOT NULL REFERENCES subnets(id), address TEXT NOT NULL,
    PRIMARY KEY (subnet_id, address));
  CREATE INDEX port_ips_port ON port_ips(port_id);
  CREATE TABLE security_groups (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
    stateful INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, revision INTEGER NOT NULL DEFAULT 1);
  CREATE INDEX security_groups_project ON security_groups(project_id);
  CREATE TABLE default_security_groups (project_id TEXT PRIMARY KEY, security_group_id TEXT NOT NULL REFERENCES security_groups(id));
  CREATE TABLE security_group_rules (
    id TEXT PRIMARY KEY, security_group_id TEXT NOT NULL REFERENCES security_groups(id), project_id TEXT NOT NULL,
    direction TEXT NOT NULL, ethertype TEXT NOT NULL, protocol TEXT, port_range_min INTEGER, port_range_max INTEGER,
    remote_ip_prefix TEXT, remote_group_id TEXT, description TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
  CREATE INDEX security_group_rules_group ON security_group_rules(security_group_id);
  `,
  // 11: block storage (Cinder subset): volumes, snapshots, volume types, attachments (3.27+ records); a server's
  // attached volumes also as JSON on its row (the view reads them; writing them raises the server's revision)
  `
  CREATE TABLE volume_types (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, is_public INTEGER NOT NULL DEFAULT 1,
    extra_specs TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL);
  CREATE TABLE volumes (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL, name TEXT, description TEXT,
    size INTEGER NOT NULL, status TEXT NOT NULL, volume_type_id TEXT NOT NULL, availability_zone TEXT NOT NULL,
    bootable INTEGER NOT NULL DEFAULT 0, source_volid TEXT, snapshot_id TEXT, image_id TEXT, backend TEXT NOT NULL,
    location TEXT, format TEXT NOT NULL DEFAULT 'raw', metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX volumes_project ON volumes(project_id);
  CREATE TABLE volume_snapshots (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL, volume_id TEXT NOT NULL, name TEXT,
    description TEXT, size INTEGER NOT NULL, status TEXT NOT NULL, location TEXT, metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX volume_snapshots_volume ON volume_snapshots(volume_id);
  CREATE INDEX volume_snapshots_project ON volume_snapshots(project_id);
  CREATE TABLE volume_attachments (
    id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, server_id TEXT NOT NULL, project_id TEXT NOT NULL,
    status TEXT NOT NULL, device TEXT, host_name TEXT, tag TEXT, delete_on_termination INTEGER NOT NULL DEFAULT 0,
    attach_mode TEXT NOT NULL DEFAULT 'rw', created_at TEXT NOT NULL, attached_at TEXT);
  CREATE INDEX volume_attachments_volume ON volume_attachments(volume_id);
  CREATE INDEX volume_attachments_server ON volume_attachments(server_id);
  ALTER TABLE servers ADD COLUMN volumes TEXT NOT NULL DEFAULT '[]';
  `,
  // 12: cluster leases (periodic work once per cluster)
  `
  CREATE TABLE cluster_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, lease_until BIGINT NOT NULL);
  `,
  // 13: shelve: the snapshot a shelved server is unshelved from and when it was shelved
  `
  ALTER TABLE servers ADD COLUMN shelved_image_id TEXT;
  ALTER TABLE servers ADD COLUMN shelved_at TEXT;
  `,
  // 14: host up/down transitions recorded by the host monitor
  `
  CREATE TABLE host_transitions (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, host TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, at TEXT NOT NULL);
  CREATE INDEX host_transitions_host ON host_transitions(host, id);
  `,
  // 15: host aggregates and the availability zone a server was created in
  `
  CREATE TABLE aggregates (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE,
    metadata TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT);
  CREATE TABLE aggregate_hosts (
    seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, aggregate_id BIGINT NOT NULL, host TEXT NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (aggregate_id, host));
  CREATE INDEX aggregate_hosts_host ON aggregate_hosts(host);
  ALTER TABLE servers ADD COLUMN requested_zone TEXT;
  `,
];
