/** Conversions between records and columns that several repositories share. */
export type Row = Record<string, unknown>;

export const bool = (v: unknown): boolean => v === 1;
export const now = (): string => new Date().toISOString();

/** Record field -> [column, encoder] of the fields an update may change. */
export type FieldMap = Record<string, [string, (v: never) => unknown]>;

/** `column = ?` assignments and their values for the defined fields of `changes`; an unmapped field throws. */
export function assignments(changes: object, map: FieldMap, what: string): { sets: string[]; params: unknown[] } {
  const sets: string[] = []; const params: unknown[] = [];
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) continue;
    const m = map[k]; if (!m) throw new Error(`unknown ${what} field ${k}`);
    sets.push(`${m[0]} = ?`); params.push(m[1](v as never));
  }
  return { sets, params };
}
