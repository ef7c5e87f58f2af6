/**
 * os-getConsoleOutput: 200 {"output": "..."} (Nova's console_output.py). `length` is the number of last lines:
 * an integer >= -1, a string of digits (optionally negative), or null; -1 and null (or absent) mean all of it.
 */
import { Type } from '@sinclair/typebox';
import { check } from '../../validate.js';
import { badRequest } from '../../../controller/errors.js';
import type { ActionTable } from './types.js';

const GetConsoleOutput = Type.Object({
  length: Type.Optional(Type.Union([Type.Integer({ minimum: -1 }), Type.String({ pattern: '^-?[0-9]+$' }), Type.Null()])),
}, { additionalProperties: false });

/** more lines than any console holds within the host's byte cap: "all" */
const MAX_LINES = 1_000_000_000;

/** null = all lines */
export function consoleLines(length: number | string | null | undefined): number | null {
  if (length === undefined || length === null) return null;
  const n = typeof length === 'number' ? length : Number(length);
  // Nova's schema leaves a negative string unchecked (its minimum applies to integers only), and its _tail_log
  // then slices from the front; anything below -1 is refused here instead
  if (n < -1) throw badRequest(`Invalid input for field/attribute length. Value: ${JSON.stringify(length)}. ${n} is less than the minimum of -1`);
  return n === -1 ? null : Math.min(n, MAX_LINES);
}

export const consoleActions: ActionTable = {
  'os-getConsoleOutput': async ({ req, id, body, d }) => {
    const b = check(GetConsoleOutput, body);
    return { output: await d.compute.console.output(req.ctx, id, consoleLines(b.length)) };
  },
};
