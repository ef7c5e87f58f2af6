/**
 * A policy file as operators write them for Nova: YAML with one `"rule": "check"` per line (comments with `#`), or
 * the same as a JSON object. Only that flat form is read (it is all a policy file holds); anything else is an
 * error naming the line.
 */
import { readFileSync } from 'node:fs';
import { Policy, PolicyError } from './policy.js';

export function parsePolicyText(text: string, file = 'policy file'): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try { obj = JSON.parse(trimmed); } catch (err) { throw new PolicyError(`${file}: ${(err as Error).message}`); }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (typeof v !== 'string') throw new PolicyError(`${file}: rule ${JSON.stringify(k)}: expected a string`);
      out[k] = v;
    }
    return out;
  }
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s*#.*$/, '').trimEnd();
    if (line.trim() === '' || line.trim() === '---') return;
    const m = /^\s*(?:"([^"]+)"|'([^']+)'|([^\s:#][^:]*?))\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(.*?))\s*(?:#.*)?$/.exec(line);
    if (!m) throw new PolicyError(`${file}:${i + 1}: expected "rule": "check"`);
    const key = m[1] ?? m[2] ?? m[3]!;
    out[key] = m[4] ?? m[5] ?? m[6] ?? '';
  });
  return out;
}

export function loadPolicyFile(file: string): Policy {
  return new Policy(parsePolicyText(readFileSync(file, 'utf8'), file));
}
