import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { DiskTool } from '../disks/disk-tool.js';
import type { ImageRef } from '../../rpc/protocol/server-spec.js';

export interface CachedImage {
  path: string;
  format: 'qcow2' | 'raw';
  sizeBytes: number;
}

/**
 * Per-host cache of base images, one file per image id (`<dataDir>/images/<id>`). Bases are read-only
 * backing files shared by every server's overlay, so a cached image is never rewritten; filling goes
 * through a temp file + rename, so a crash mid-download never leaves a truncated base behind.
 */
export class ImageCache {
  private readonly inflight = new Map<string, Promise<CachedImage>>();

  constructor(readonly dir: string, private readonly disks: DiskTool) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  }

  pathFor(id: string): string {
    return join(this.dir, id);
  }

  has(id: string): boolean {
    return existsSync(this.pathFor(id));
  }

  /** Fetches the image once, even if several spawns ask at the same time. */
  ensure(image: ImageRef, onProgress?: (pct: number) => void): Promise<CachedImage> {
    let p = this.inflight.get(image.id);
    if (!p) {
      p = this.fill(image, onProgress).finally(() => this.inflight.delete(image.id));
      this.inflight.set(image.id, p);
    }
    return p;
  }

  private async fill(image: ImageRef, onProgress?: (pct: number) => void): Promise<CachedImage> {
    const path = this.pathFor(image.id);
    if (!existsSync(path)) {
      const tmp = `${path}.part-${process.pid}-${Date.now()}`;
      try {
        if (/^https?:\/\//.test(image.source)) await download(image.source, tmp, onProgress);
        else await copyFile(image.source.startsWith('file:') ? fileURLToPath(image.source) : image.source, tmp);
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
    onProgress?.(100);
    const info = await this.disks.info(path);
    const format = image.format ?? (info.format === 'raw' ? 'raw' : 'qcow2');
    return { path, format, sizeBytes: info.virtualSize || (await stat(path)).size };
  }
}

async function download(url: string, dst: string, onProgress?: (pct: number) => void): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`image download ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  let got = 0;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  body.on('data', (c: Buffer) => {
    got += c.length;
    if (total && onProgress) onProgress((got / total) * 100);
  });
  await pipeline(body, createWriteStream(dst, { mode: 0o644 }));
}
