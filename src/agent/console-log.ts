/**
 * Reading the tail of a guest's serial console log (<dataDir>/instances/<uuid>/console.log, written by QEMU
 * through libvirt's <log file=.../>) without reading the file whole: chunks are read backwards from the end
 * until enough lines are in hand or `maxBytes` were read. Nova's semantics (libvirt driver + compute manager
 * _tail_log): only the last MAX_CONSOLE_BYTES count, then the text is split on "\n" and the last N pieces are
 * joined again (so a log ending in "\n" has an empty last line, and N = 0 answers "").
 */
import { open } from 'node:fs/promises';
import { MAX_CONSOLE_BYTES, type ConsoleResponse } from '../rpc/protocol/servers.js';

const CHUNK = 16 * 1024;
const NL = 0x0a;

/** `lines` null = every line within the cap; a missing file is an empty console (the guest wrote nothing yet) */
export async function tailConsoleLog(path: string, lines: number | null, maxBytes = MAX_CONSOLE_BYTES, chunkBytes = CHUNK): Promise<ConsoleResponse> {
  if (lines === 0) return { output: '', truncated: false };
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { output: '', truncated: false };
    throw err;
  }
  try {
    const size = (await fh.stat()).size;
    const limit = Math.min(size, maxBytes);
    const chunks: Buffer[] = [];
    let read = 0;
    let newlines = 0;
    // N lines need N-1 separators; one more newline marks where the N-th last line starts
    while (read < limit && (lines === null || newlines < lines)) {
      const n = Math.min(chunkBytes, limit - read);
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, size - read - n);
      if (bytesRead < n) break; // the file shrank under us (rotated): keep what was read
      chunks.unshift(buf);
      read += n;
      if (lines !== null) for (let i = 0; i < n; i++) if (buf[i] === NL) newlines++;
    }
    let data = Buffer.concat(chunks);
    let truncated = read < size;
    if (lines !== null) {
      // the start of the last `lines` pieces: just after the lines-th newline from the end
      let seen = 0;
      for (let i = data.length - 1; i >= 0; i--) {
        if (data[i] === NL && ++seen === lines) { data = data.subarray(i + 1); truncated = true; break; }
      }
    }
    return { output: data.toString('utf8'), truncated };
  } finally {
    await fh.close();
  }
}
