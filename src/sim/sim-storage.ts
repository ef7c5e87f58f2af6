/**
 * Storage doubles for simulated hosts: disks and cached images are tiny JSON descriptors instead of qcow2
 * files, so a thousand hosts with fifty servers each cost a few kilobytes of files per server. Everything
 * above them (journal, runner, file ownership, rollback) is the real agent code.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ImageRef } from '../rpc/protocol/server-spec.js';
import type { DiskInfo, DiskTool } from '../agent/disks/disk-tool.js';
import { GiB } from '../agent/disks/disk-tool.js';
import { ImageCache, type CachedImage } from '../agent/images/image-cache.js';

interface Descriptor { format: string; size: number; backing?: string; label?: string; files?: string[] }

function writeDescriptor(path: string, d: Descriptor): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(d));
}

function readDescriptor(path: string): Descriptor {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Descriptor;
  } catch {
    return { format: 'raw', size: 0 };
  }
}

/** DiskTool writing descriptors: sizes and backing chains are tracked, no bytes are. */
export class SimDiskTool implements DiskTool {
  async createOverlay(path: string, backing: string, _fmt: 'qcow2' | 'raw', sizeBytes = 0): Promise<void> {
    writeDescriptor(path, { format: 'qcow2', size: Math.max(sizeBytes, readDescriptor(backing).size), backing });
  }
  async create(path: string, format: 'qcow2' | 'raw', sizeBytes: number): Promise<void> {
    writeDescriptor(path, { format, size: sizeBytes });
  }
  async resize(path: string, sizeBytes: number): Promise<void> {
    const d = readDescriptor(path);
    if (sizeBytes > d.size) writeDescriptor(path, { ...d, size: sizeBytes });
  }
  async info(path: string): Promise<DiskInfo> {
    const d = readDescriptor(path);
    return d.backing ? { format: d.format, virtualSize: d.size, backingFile: d.backing } : { format: d.format, virtualSize: d.size };
  }
  /** a config drive as a descriptor listing its files (a simulated guest never mounts it) */
  async makeIso(path: string, label: string, files: Map<string, Buffer>): Promise<void> {
    writeDescriptor(path, { format: 'raw', size: [...files.values()].reduce((n, b) => n + b.length, 0), label, files: [...files.keys()] });
  }

  async convert(src: string, dst: string, outFormat: 'qcow2' | 'raw'): Promise<void> {
    writeDescriptor(dst, { format: outFormat, size: readDescriptor(src).size });
  }
}

/**
 * Image cache that records a descriptor for the image instead of fetching its bytes: a thousand hosts
 * would otherwise each copy (or download) the controller's image.
 */
export class SimImageCache extends ImageCache {
  override async ensure(image: ImageRef, onProgress?: (pct: number) => void): Promise<CachedImage> {
    const path = this.pathFor(image.id);
    if (!existsSync(path)) writeDescriptor(path, { format: image.format ?? 'qcow2', size: GiB });
    onProgress?.(100);
    return { path, format: image.format ?? 'qcow2', sizeBytes: readDescriptor(path).size };
  }
}
