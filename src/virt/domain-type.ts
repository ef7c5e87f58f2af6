/**
 * Which libvirt domain type this host can run. Production hosts use kvm; CI machines list kvm in libvirt's
 * capabilities (/dev/kvm exists) but a kvm guest never boots there (no vmx/svm: no usable nested
 * virtualisation), so kvm also needs the CPU flags. NOVALET_DOMAIN_TYPE=qemu|kvm overrides.
 */
import { readFileSync } from 'node:fs';
import type { DomainType } from './hypervisor.js';

export function detectDomainType(capabilitiesXml: string, cpuinfo?: string, env: NodeJS.ProcessEnv = process.env): DomainType {
  const forced = env['NOVALET_DOMAIN_TYPE'];
  if (forced === 'qemu' || forced === 'kvm') return forced;
  let kvmListed = false;
  for (const m of capabilitiesXml.matchAll(/<guest>([\s\S]*?)<\/guest>/g)) {
    const body = m[1] ?? '';
    if (/<arch name=['"]x86_64['"]/.test(body) && /<domain type=['"]kvm['"]/.test(body)) kvmListed = true;
  }
  if (!kvmListed) return 'qemu';
  let info = cpuinfo;
  if (info === undefined) {
    try { info = readFileSync('/proc/cpuinfo', 'utf8'); } catch { info = ''; }
  }
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(info) ? 'kvm' : 'qemu';
}
