/**
 * Small edits of libvirt domain XML in place (the rest of libvirt's definition is kept byte for byte).
 */
import { parseDisks } from './parse.js';
import { xmlEscape as e } from './xml.js';

/**
 * Points the file disk `target` at `path` (format `format`) and drops its backing chain, which libvirt
 * re-probes from the image. Used after an offline commit merged an overlay back into its base.
 */
export function setDiskSource(domainXml: string, target: string, path: string, format: string): string {
  const disk = parseDisks(domainXml).find((d) => d.target === target);
  if (!disk) throw new Error(`no disk ${target} in the domain XML`);
  const edited = disk.raw
    .replace(/<backingStore[\s\S]*<\/backingStore\s*>|<backingStore\s*\/>/, '')
    .replace(/<source\s[^>]*?(\/>|>[\s\S]*?<\/source\s*>)/, `<source file='${e(path)}'/>`)
    .replace(/(<driver\s[^>]*?type=)(['"])[^'"]*\2/, `$1'${e(format)}'`);
  return domainXml.replace(disk.raw, () => edited);
}
