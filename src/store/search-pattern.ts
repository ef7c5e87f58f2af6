/**
 * The name/ip filters' regular expressions (Nova: Python `re.search`), run by RE2 (re2js, a pure-JS port): matching
 * is linear in the text whatever the pattern, so no member's pattern can stall the controller's one thread the way
 * a backtracking engine does (`^(a|a)+$` against `aaaa…a!`). RE2 has no backreferences or lookaround: such patterns
 * do not compile (the API answers 400). Python's `\Z` (end of text) is RE2's `\z`.
 */
import { RE2JS } from 're2js';

export interface SearchPattern { test(text: string): boolean; }

/** Python's escapes that RE2 spells differently */
function translate(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      const n = p[++i]!;
      out += n === 'Z' ? '\\z' : `\\${n}`;
    } else out += c;
  }
  return out;
}

/** null if RE2 cannot compile the pattern (syntax error, backreference, lookaround, repeat count over 1000) */
export function compileSearchPattern(pattern: string): SearchPattern | null {
  try {
    const re = RE2JS.compile(translate(pattern));
    return { test: (text) => re.test(text) };
  } catch {
    return null;
  }
}
