/**
 * qemu-img, typed. Only the virt layer and the agent's image cache use it; all calls go through exec.ts with
 * an argument vector (no shell) and LC_ALL=C so that messages are stable. Failures are QemuImgError
 * (a VirtError with code 'operation_failed', or 'timeout') carrying the exit code and stderr.
 */
import { execCapture } from './exec.js';
import { VirtError } from './errors.js';

export type ImageFormat = 'qcow2' | 'raw';

export interface ImageInfo {
  filename: string;
  format: string;
  /** bytes seen by the guest */
  virtualSize: number;
  /** bytes allocated on the host */
  actualSize: number;
  /** as written in the image (may be relative) */
  backingFile: string | undefined;
  /** resolved absolute path of the backing file */
  fullBackingFile: string | undefined;
  backingFormat: string | undefined;
  dirty: boolean;
}

export interface CheckResult {
  errors: number;
  leaks: number;
  corruptions: number;
}

export class QemuImgError extends VirtError {
  constructor(readonly args: readonly string[], readonly exitCode: number | undefined, readonly stderr: string, timedOut: boolean) {
    super(timedOut ? 'timeout' : 'operation_failed',
      `qemu-img ${args.join(' ')} ${timedOut ? 'timed out' : `failed (exit ${exitCode})`}: ${stderr.trim()}`);
    this.name = 'QemuImgError';
  }
}

export interface QemuImgOptions {
  /** default 10 min: converts of large images take a while */
  timeoutMs?: number;
  /** executable (tests) */
  bin?: string;
}

async function run(args: string[], opts: QemuImgOptions = {}): Promise<string> {
  const r = await execCapture(opts.bin ?? 'qemu-img', args, { timeoutMs: opts.timeoutMs ?? 600_000 });
  if (r.exitCode !== 0 || r.timedOut) throw new QemuImgError(args, r.exitCode, r.stderr, r.timedOut);
  return r.stdout;
}

export type CreateOptions =
  | { format: ImageFormat; sizeBytes: number }
  /** qcow2 overlay on a backing file; size defaults to the backing file's */
  | { format: 'qcow2'; backing: { path: string; format: ImageFormat }; sizeBytes?: number };

export async function create(path: string, o: CreateOptions, opts?: QemuImgOptions): Promise<void> {
  const args = ['create', '-q', '-f', o.format];
  // the backing format is always explicit: probing it is unsafe (a raw image could claim to be qcow2)
  if ('backing' in o) args.push('-b', o.backing.path, '-F', o.backing.format);
  args.push(path);
  if (o.sizeBytes !== undefined) args.push(String(o.sizeBytes));
  await run(args, opts);
}

/**
 * Points a qcow2 overlay at another backing file without reading either (`rebase -u`): the same base image at
 * another path (a disk moved to another host, whose image cache has the base elsewhere).
 */
export async function rebaseUnsafe(path: string, backing: { path: string; format: ImageFormat }, opts?: QemuImgOptions): Promise<void> {
  await run(['rebase', '-q', '-u', '-f', 'qcow2', '-b', backing.path, '-F', backing.format, path], opts);
}

export interface InfoOptions extends QemuImgOptions {
  /** -U: read an image a running QEMU holds open */
  forceShare?: boolean;
  /** skip format probing when the caller knows it */
  format?: ImageFormat;
}

export async function info(path: string, opts: InfoOptions = {}): Promise<ImageInfo> {
  const args = ['info', '--output=json'];
  if (opts.forceShare) args.push('-U');
  if (opts.format) args.push('-f', opts.format);
  args.push(path);
  const j = JSON.parse(await run(args, opts)) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof j[k] === 'string' ? j[k] as string : undefined);
  return {
    filename: str('filename') ?? path,
    format: str('format') ?? '',
    virtualSize: Number(j['virtual-size'] ?? 0),
    actualSize: Number(j['actual-size'] ?? 0),
    backingFile: str('backing-filename'),
    fullBackingFile: str('full-backing-filename'),
    backingFormat: str('backing-filename-format'),
    dirty: j['dirty-flag'] === true,
  };
}

/** Grows (or with shrink: true, shrinks) the virtual size. */
export async function resize(path: string, sizeBytes: number, opts: QemuImgOptions & { format?: ImageFormat; shrink?: boolean } = {}): Promise<void> {
  const args = ['resize', '-q'];
  if (opts.format) args.push('-f', opts.format);
  if (opts.shrink) args.push('--shrink');
  args.push(path, String(sizeBytes));
  await run(args, opts);
}

export interface ConvertOptions extends QemuImgOptions {
  outFormat: ImageFormat;
  srcFormat?: ImageFormat;
  /** -U: the source is in use by a running QEMU (e.g. the base under a snapshot overlay) */
  forceShare?: boolean;
  /** -c: compressed qcow2 output (image uploads) */
  compress?: boolean;
}

/** Copies src (and its backing chain) into a standalone image. */
export async function convert(src: string, dst: string, o: ConvertOptions): Promise<void> {
  const args = ['convert', '-q', '-O', o.outFormat];
  if (o.srcFormat) args.push('-f', o.srcFormat);
  if (o.forceShare) args.push('-U');
  if (o.compress) args.push('-c');
  args.push(src, dst);
  await run(args, o);
}

/** Merges an overlay into its backing file (the overlay must not be in use). */
export async function commit(overlay: string, opts: QemuImgOptions & { format?: ImageFormat } = {}): Promise<void> {
  const args = ['commit', '-q'];
  if (opts.format) args.push('-f', opts.format);
  args.push(overlay);
  await run(args, opts);
}

/** Consistency check of a qcow2 image. qemu-img exits 2 (corruptions) / 3 (leaks) with valid JSON. */
export async function check(path: string, opts: QemuImgOptions & { format?: ImageFormat; forceShare?: boolean } = {}): Promise<CheckResult> {
  const args = ['check', '--output=json'];
  if (opts.format) args.push('-f', opts.format);
  if (opts.forceShare) args.push('-U');
  args.push(path);
  const r = await execCapture(opts.bin ?? 'qemu-img', args, { timeoutMs: opts.timeoutMs ?? 600_000 });
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new QemuImgError(args, r.exitCode, r.stderr, r.timedOut);
  }
  return { errors: Number(j['check-errors'] ?? 0), leaks: Number(j['leaks'] ?? 0), corruptions: Number(j['corruptions'] ?? 0) };
}
