/**
 * oslo.policy's check language, the part policy files use: `@` (always), `!` (never), `role:NAME`, `rule:NAME`,
 * `ATTR:%(target)s` (e.g. `project_id:%(project_id)s`), `ATTR:literal` (e.g. `is_admin:True`), `not`, `and`, `or`
 * (and binds tighter than or) and parentheses. An empty string means `@`, as in oslo.
 */
export type Check =
  | { k: 'true' } | { k: 'false' }
  | { k: 'role'; role: string }
  | { k: 'rule'; name: string }
  | { k: 'attr'; attr: string; value: string; fromTarget: boolean }
  | { k: 'not'; c: Check } | { k: 'and'; cs: Check[] } | { k: 'or'; cs: Check[] };

export class PolicySyntaxError extends Error {}

/** words and parentheses; the parentheses of a target reference `%(name)s` belong to its word */
function tokenize(s: string): string[] {
  return s.match(/[()]|(?:[^\s()%]|%\([A-Za-z0-9_.]*\)s|%)+/g) ?? [];
}

export function parseCheck(text: string): Check {
  const toks = tokenize(text);
  if (toks.length === 0) return { k: 'true' };
  let i = 0;
  const peek = () => toks[i];
  const or = (): Check => {
    const cs = [and()];
    while (peek() === 'or') { i++; cs.push(and()); }
    return cs.length === 1 ? cs[0]! : { k: 'or', cs };
  };
  const and = (): Check => {
    const cs = [unary()];
    while (peek() === 'and') { i++; cs.push(unary()); }
    return cs.length === 1 ? cs[0]! : { k: 'and', cs };
  };
  const unary = (): Check => {
    const t = toks[i++];
    if (t === undefined) throw new PolicySyntaxError(`unexpected end of ${JSON.stringify(text)}`);
    if (t === 'not') return { k: 'not', c: unary() };
    if (t === '(') {
      const c = or();
      if (toks[i++] !== ')') throw new PolicySyntaxError(`missing ')' in ${JSON.stringify(text)}`);
      return c;
    }
    if (t === '@') return { k: 'true' };
    if (t === '!') return { k: 'false' };
    const colon = t.indexOf(':');
    if (colon <= 0 || colon === t.length - 1) throw new PolicySyntaxError(`${JSON.stringify(t)} is not a check (KIND:VALUE) in ${JSON.stringify(text)}`);
    const kind = t.slice(0, colon);
    const value = t.slice(colon + 1);
    if (kind === 'role') return { k: 'role', role: value.toLowerCase() };
    if (kind === 'rule') return { k: 'rule', name: value };
    const m = /^%\(([A-Za-z0-9_.]+)\)s$/.exec(value);
    return m ? { k: 'attr', attr: kind, value: m[1]!, fromTarget: true } : { k: 'attr', attr: kind, value, fromTarget: false };
  };
  const c = or();
  if (i !== toks.length) throw new PolicySyntaxError(`unexpected ${JSON.stringify(toks[i])} in ${JSON.stringify(text)}`);
  return c;
}

/** the caller's credentials as oslo.policy sees them */
export interface Credentials { roles: string[]; project_id: string; user_id: string; is_admin: boolean }

export function evaluate(c: Check, creds: Credentials, target: Record<string, string>, rule: (name: string) => Check | undefined, depth = 0): boolean {
  if (depth > 50) throw new PolicySyntaxError('rules refer to each other in a loop');
  switch (c.k) {
    case 'true': return true;
    case 'false': return false;
    case 'role': return creds.roles.some((r) => r.toLowerCase() === c.role);
    case 'rule': { const r = rule(c.name); return r ? evaluate(r, creds, target, rule, depth + 1) : false; }
    case 'not': return !evaluate(c.c, creds, target, rule, depth + 1);
    case 'and': return c.cs.every((x) => evaluate(x, creds, target, rule, depth + 1));
    case 'or': return c.cs.some((x) => evaluate(x, creds, target, rule, depth + 1));
    case 'attr': {
      const have = String((creds as unknown as Record<string, unknown>)[c.attr] ?? '');
      const want = c.fromTarget ? target[c.value] : c.value;
      if (want === undefined) return false;
      return c.attr === 'is_admin' ? have.toLowerCase() === want.toLowerCase() : have === want;
    }
  }
}
