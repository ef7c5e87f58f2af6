/**
 * Multi-host testbed for the integration tests: N "hypervisor hosts" on one machine, each with its own network,
 * mount and UTS namespaces and libvirtd (root only). The code is the product's (`novalet testbed` runs a novalet
 * cluster on the same thing): src/cli/testbed/testbed.ts documents the layout and network.
 */
export {
  createTestbed, openTestbed, listTestbeds, cleanupStaleTestbeds, isolatedNetworkXml, TESTBED_BASE, TESTBED_SUBNET,
  type Testbed, type TestbedHost, type SharedDisk, type CreateTestbedOptions,
} from '../../src/cli/testbed/testbed.js';
