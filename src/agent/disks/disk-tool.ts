/**
 * What the agent needs from an image tool. The real one wraps qemu-img; unit tests use an in-memory one.
 * Kept as an interface so the agent can switch to src/virt/qemu-img.ts without touching operations.
 */
export interface DiskInfo {
  format: string;
  virtualSize: number;
  actualSize?: number;
  backingFile?: string;
}

export interface DiskTool {
  /** qcow2 overlay on `backing`; virtual size grown to sizeBytes if larger than the base */
  createOverlay(path: string, backing: string, backingFormat: 'qcow2' | 'raw', sizeBytes?: number): Promise<void>;
  /**
   * points the qcow2 overlay at `backing` without reading data (`qemu-img rebase -u`): a disk moved from another
   * host, whose base image is in this host's cache. Optional: tools without backing files skip it.
   */
  rebase?(path: string, backing: string, backingFormat: 'qcow2' | 'raw'): Promise<void>;
  /** blank image */
  create(path: string, format: 'qcow2' | 'raw', sizeBytes: number): Promise<void>;
  /** grow only (shrinking loses data) */
  resize(path: string, sizeBytes: number): Promise<void>;
  info(path: string): Promise<DiskInfo>;
  /** full copy, flattening backing chains; forceShare (-U) reads an image a running QEMU holds */
  convert(src: string, dst: string, outFormat: 'qcow2' | 'raw', opts?: { forceShare?: boolean; onProgress?: (pct: number) => void }): Promise<void>;
  /**
   * ISO9660 image (Rock Ridge + Joliet) labelled `label` holding these files (relative path -> content).
   * Optional: without it the agent runs genisoimage itself (config-drive.ts).
   */
  makeIso?(path: string, label: string, files: Map<string, Buffer>): Promise<void>;
}

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
