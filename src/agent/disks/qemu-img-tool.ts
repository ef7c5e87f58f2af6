import * as qemuImg from '../../virt/qemu-img.js';
import { makeIso } from '../config-drive/config-drive.js';
import type { DiskInfo, DiskTool } from './disk-tool.js';

/** DiskTool over the virt layer's typed qemu-img wrapper (src/virt/qemu-img.ts). */
export class QemuImgTool implements DiskTool {
  async createOverlay(path: string, backing: string, backingFormat: 'qcow2' | 'raw', sizeBytes?: number): Promise<void> {
    const base = await qemuImg.info(backing, { forceShare: true, format: backingFormat });
    const grow = sizeBytes !== undefined && sizeBytes > base.virtualSize;
    await qemuImg.create(path, grow
      ? { format: 'qcow2', backing: { path: backing, format: backingFormat }, sizeBytes }
      : { format: 'qcow2', backing: { path: backing, format: backingFormat } });
  }

  async rebase(path: string, backing: string, backingFormat: 'qcow2' | 'raw'): Promise<void> {
    await qemuImg.rebaseUnsafe(path, { path: backing, format: backingFormat });
  }

  async create(path: string, format: 'qcow2' | 'raw', sizeBytes: number): Promise<void> {
    await qemuImg.create(path, { format, sizeBytes });
  }

  async resize(path: string, sizeBytes: number): Promise<void> {
    const cur = await qemuImg.info(path, { forceShare: true });
    if (sizeBytes <= cur.virtualSize) return; // grow only; idempotent when re-driven after a crash
    await qemuImg.resize(path, sizeBytes, { format: cur.format === 'raw' ? 'raw' : 'qcow2' });
  }

  async info(path: string): Promise<DiskInfo> {
    const i = await qemuImg.info(path, { forceShare: true });
    const out: DiskInfo = { format: i.format, virtualSize: i.virtualSize, actualSize: i.actualSize };
    if (i.fullBackingFile ?? i.backingFile) out.backingFile = (i.fullBackingFile ?? i.backingFile)!;
    return out;
  }

  async convert(src: string, dst: string, outFormat: 'qcow2' | 'raw', opts: { forceShare?: boolean; onProgress?: (pct: number) => void } = {}): Promise<void> {
    await qemuImg.convert(src, dst, opts.forceShare ? { outFormat, forceShare: true } : { outFormat });
    opts.onProgress?.(100);
  }

  makeIso(path: string, label: string, files: Map<string, Buffer>): Promise<void> {
    return makeIso(path, label, files);
  }
}
