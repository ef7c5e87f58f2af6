// The virt layer's public surface for the agent (see README.md). The native addon is only loaded when a
// LibvirtHypervisor first connects, so importing this from unit tests that use the fake is cheap.
export * from './hypervisor.js';
export { NO_MIGRATION_JOB, rewritePaths } from './migration.js';
export { VirtError, isVirtError, toVirtError, type VirtErrorCode } from './errors.js';
export { LibvirtHypervisor, type LibvirtHypervisorOptions } from './libvirt-hypervisor/index.js';
export {
  FakeHost, FakeHypervisor, FakeMigration, Faults, Hang, type FakeHypervisorOptions, type FakeMethod, type FakeMigrationPlan, type GuestBehaviour,
} from './fake/index.js';
export { detectDomainType } from './domain-type.js';
export { powerStateOf, powerStateOfEvent, isActiveState } from './power-state.js';
export { overlayPathFor, isOverlayPath } from './overlays.js';
export {
  buildDomainXml, domainSpecFromXml, normalizeDomainSpec, isNovaletDomain, parseDomainXml, parseDisks, parseNics, parseNovaletMetadata,
  diskAlias, nicAlias, NOVALET_XMLNS, type ParsedDisk, type ParsedDomain, type ParsedNic, type NovaletMetadata,
} from './domain-xml/index.js';
export * as qemuImg from './qemu-img.js';
