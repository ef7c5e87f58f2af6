/**
 * ISO 8601 as Nova reads a `date-time` (its format checker and timeutils.parse_isotime both use the iso8601
 * library): that library's pattern (YYYY, YYYY-MM, YYYY-MM-DD, YYYYMMDD, then an optional [T ]hh[:mm[:ss[.f]]]
 * and Z or +-hh[:mm]), a real calendar date and time, UTC when no offset is given. Anything else, including what
 * Date.parse would accept ("2011/01/01", "Jan 1 2011"), is not a date-time.
 */
const ISO8601 = new RegExp(
  '^(?<year>[0-9]{4})(?:(?:-(?<monthdash>[0-9]{1,2})|(?<month>[0-9]{2})(?!$))' +
    '(?:(?:-(?<daydash>[0-9]{1,2})|(?<day>[0-9]{2}))' +
    '(?:[ T](?<hour>[0-9]{2})(?::?(?<minute>[0-9]{2}))?(?::?(?<second>[0-9]{1,2})(?:[.,](?<fraction>[0-9]+))?)?' +
    '(?<tz>Z|(?<sign>[-+])(?<tzh>[0-9]{2}):?(?<tzm>[0-9]{2})?)?)?)?)?$',
);

/** milliseconds since the epoch, or undefined if `v` is not an ISO 8601 date-time as Nova's iso8601 reads it */
export function parseIso8601(v: string): number | undefined {
  const g = ISO8601.exec(v)?.groups;
  if (!g) return undefined;
  const n = (s: string | undefined, dflt: number) => (s === undefined ? dflt : Number(s));
  const year = n(g.year, 0);
  const month = n(g.month ?? g.monthdash, 1);
  const day = n(g.day ?? g.daydash, 1);
  const hour = n(g.hour, 0);
  const minute = n(g.minute, 0);
  const second = n(g.second, 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const offset = g.sign ? (g.sign === '-' ? -1 : 1) * (n(g.tzh, 0) * 60 + n(g.tzm, 0)) : 0;
  if (Math.abs(offset) >= 24 * 60) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, Math.floor(Number(`0.${g.fraction ?? '0'}`) * 1000));
  return d.getTime() - offset * 60_000;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y: number, m: number): number => (m === 2 && !isLeap(y) ? 28 : DAYS[m - 1]!);
