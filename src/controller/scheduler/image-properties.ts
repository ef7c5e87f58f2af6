/**
 * Nova's ImagePropertiesFilter: an image may name the architecture (`hw_architecture`, formerly `architecture`),
 * hypervisor type (`img_hv_type`, formerly `hypervisor_type`), VM mode (`hw_vm_mode`, formerly `vm_mode`) and
 * hypervisor version (`img_hv_requested_version`, e.g. ">=6.0") it needs; a host passes when one of the guest kinds
 * it supports (arch, hv type, vm mode: Nova's supported_instances, from the agent's inventory) has every property
 * the image names, and its hypervisor version satisfies the requested one. An image that names none passes
 * everywhere; a host that reports nothing passes no image that names one (as Nova).
 */

/** one (architecture, hypervisor type, VM mode) a host runs guests as */
export interface SupportedInstance { arch: string; hvType: string; vmMode: string }

/** what an image asks of its host (canonical names; undefined: anything) */
export interface ImageRequirements { arch?: string; hvType?: string; vmMode?: string; hvVersion?: string }

/** Nova's Architecture.canonicalize (lower case; i386..i586 and x86_32 are i686, amd64 is x86_64; arm64: aarch64) */
export function canonicalArch(name: string): string {
  const n = name.toLowerCase();
  if (['i386', 'i486', 'i586', 'x86_32', 'x86_32p'].includes(n)) return 'i686';
  if (n === 'amd64' || n === 'x64') return 'x86_64';
  if (n === 'arm64') return 'aarch64';
  return n;
}

/** Nova's HVType.canonicalize (xapi is xen) */
const canonicalHvType = (name: string) => { const n = name.toLowerCase(); return n === 'xapi' ? 'xen' : n; };
/** Nova's VMMode.canonicalize (hv and baremetal are hvm, pv is xen) */
const canonicalVmMode = (name: string) => { const n = name.toLowerCase(); return n === 'hv' || n === 'baremetal' ? 'hvm' : n === 'pv' ? 'xen' : n; };

/** the requirements an image's properties state, with the old property names as Nova's ImageMetaProps reads them */
export function imageRequirements(props: Readonly<Record<string, string>>): ImageRequirements {
  const arch = props.hw_architecture ?? props.architecture;
  const hvType = props.img_hv_type ?? props.hypervisor_type;
  const vmMode = props.hw_vm_mode ?? props.vm_mode;
  const hvVersion = props.img_hv_requested_version;
  return {
    ...(arch ? { arch: canonicalArch(arch) } : {}), ...(hvType ? { hvType: canonicalHvType(hvType) } : {}),
    ...(vmMode ? { vmMode: canonicalVmMode(vmMode) } : {}), ...(hvVersion ? { hvVersion } : {}),
  };
}

export const hasRequirements = (r: ImageRequirements): boolean => !!(r.arch || r.hvType || r.vmMode);

/**
 * What a libvirt host runs (Nova's libvirt driver, for the host's own architecture): hvm guests under qemu (TCG),
 * and under kvm as well when the host has KVM.
 */
export function supportedInstances(arch: string, domainType: string): SupportedInstance[] {
  const a = canonicalArch(arch);
  return domainType === 'kvm'
    ? [{ arch: a, hvType: 'kvm', vmMode: 'hvm' }, { arch: a, hvType: 'qemu', vmMode: 'hvm' }]
    : [{ arch: a, hvType: 'qemu', vmMode: 'hvm' }];
}

/** Nova's convert_version_to_str: 7002000 -> "7.2.0" */
const versionString = (v: number) => [Math.floor(v / 1_000_000), Math.floor(v / 1000) % 1000, v % 1000].join('.');

const compareVersions = (a: string, b: string): number => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

/** Nova's VersionPredicate over "op version[, op version...]" (ops <, <=, ==, !=, >=, >); an unreadable one fails */
export function versionSatisfies(version: string, predicate: string): boolean {
  return predicate.split(',').every((part) => {
    const m = /^\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)*)\s*$/.exec(part);
    if (!m) return false;
    const c = compareVersions(version, m[2]!);
    switch (m[1]) {
      case '<': return c < 0;
      case '<=': return c <= 0;
      case '==': return c === 0;
      case '!=': return c !== 0;
      case '>=': return c >= 0;
      default: return c > 0;
    }
  });
}

/** the filter: does a host with these supported instances and hypervisor version (Nova's integer form) take the image */
export function hostTakesImage(supported: readonly SupportedInstance[] | undefined, hypervisorVersion: number, r: ImageRequirements): boolean {
  if (!hasRequirements(r)) return true;
  if (!supported?.length) return false;
  const versionOk = !r.hvVersion || !hypervisorVersion || versionSatisfies(versionString(hypervisorVersion), r.hvVersion);
  return versionOk && supported.some((i) => (!r.arch || i.arch === r.arch) && (!r.hvType || i.hvType === r.hvType) && (!r.vmMode || i.vmMode === r.vmMode));
}
