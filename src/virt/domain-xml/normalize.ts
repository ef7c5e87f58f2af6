/**
 * A DomainSpec with every optional field set to the value buildDomainXml uses for it, which is also what
 * domainSpecFromXml reads back: compare normalize(desired) with domainSpecFromXml(actual) to see whether a
 * domain is defined as asked.
 */
import type { DomainSpec } from '../hypervisor.js';

export function normalizeDomainSpec(spec: DomainSpec): DomainSpec {
  return {
    ...spec,
    boot: spec.boot.kind === 'kernel'
      ? { kind: 'kernel', kernel: spec.boot.kernel, ...(spec.boot.ramdisk !== undefined ? { ramdisk: spec.boot.ramdisk } : {}), cmdline: spec.boot.cmdline }
      : { kind: 'disk' },
    disks: spec.disks.map((d) => {
      const device = d.device ?? 'disk';
      return {
        target: d.target, path: d.path, format: d.format, role: d.role,
        bus: d.bus ?? 'virtio', device, readonly: d.readonly === true || device === 'cdrom', sourceType: d.sourceType ?? 'file',
        ...(d.volumeId !== undefined ? { volumeId: d.volumeId } : {}),
      };
    }),
    nics: spec.nics.map((n) => ({ portId: n.portId, mac: n.mac, attachment: { ...n.attachment }, model: n.model ?? 'virtio' })),
    metadata: { ...spec.metadata },
  };
}
