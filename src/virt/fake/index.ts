export { FakeHost, FakeHypervisor, type FakeHypervisorOptions, type GuestBehaviour } from './fake-hypervisor.js';
export { Faults, Hang, type Fault, type FakeMethod, type RecordedCall } from './faults.js';
export { FakeMigration, type FakeMigrationPlan } from './fake-migration.js';
