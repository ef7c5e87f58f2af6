export * from './version.js';
export * from './common.js';
export * from './server-spec.js';
export * from './operations.js';
export * from './servers.js';
export * from './inventory.js';
export * from './networks.js';
export * from './live-migration.js';
