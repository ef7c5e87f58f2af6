/**
 * Just enough XML for libvirt domain documents, without a dependency: escaping, and finding elements whose
 * tag does not nest inside itself (disk, interface, source, alias ...). libvirt's own output is regular
 * (libxml2-serialised, attributes quoted, entities escaped), which is what this is written for; it is not a
 * general XML parser (no CDATA, no comments inside the elements searched for).
 */

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

export function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_m, ent: string) => {
    switch (ent) {
      case 'lt': return '<';
      case 'gt': return '>';
      case 'amp': return '&';
      case 'quot': return '"';
      case 'apos': return "'";
      default:
        return String.fromCodePoint(ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10));
    }
  });
}

export interface XmlElement {
  /** attributes, unescaped */
  attrs: Record<string, string>;
  /** raw inner XML ('' for a self-closing element) */
  inner: string;
  /** the element's full raw text, e.g. to hand back to libvirt's detachDevice */
  raw: string;
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out[m[1] ?? ''] = xmlUnescape(m[2] ?? m[3] ?? '');
  }
  return out;
}

/** Every `<tag ...>` element in `xml` (tag may carry a prefix, e.g. 'novalet:meta'). Non-nesting tags only. */
export function findAll(xml: string, tag: string): XmlElement[] {
  const t = reEscape(tag);
  const re = new RegExp(`<${t}(\\s[^>]*?)?(?:/>|>([\\s\\S]*?)</${t}\\s*>)`, 'g');
  const out: XmlElement[] = [];
  for (const m of xml.matchAll(re)) {
    out.push({ attrs: parseAttrs(m[1] ?? ''), inner: m[2] ?? '', raw: m[0] });
  }
  return out;
}

export function findFirst(xml: string, tag: string): XmlElement | undefined {
  return findAll(xml, tag)[0];
}

/** Unescaped text of the first `<tag>`, trimmed; undefined when absent. */
export function textOf(xml: string, tag: string): string | undefined {
  const e = findFirst(xml, tag);
  return e === undefined ? undefined : xmlUnescape(e.inner).trim();
}

/** The `<devices>` section (empty string when absent). */
export function devicesOf(domainXml: string): string {
  return findFirst(domainXml, 'devices')?.inner ?? '';
}
