/**
 * The image store: metadata in the store, bytes as files `<imageDir>/<id>` (written to a temporary name and
 * renamed, so a reader never sees a partial image). Agents fetch images from here and cache them per host.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type { Store, Image } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../errors.js';

export interface NewImage {
  id?: string; name?: string | null; visibility?: Image['visibility']; diskFormat?: string | null; containerFormat?: string | null;
  minDisk?: number; minRam?: number; protected?: boolean; tags?: string[]; properties?: Record<string, string>;
}

export class ImageService {
  constructor(private readonly store: Store, private readonly dir: string) {}

  private path(id: string): string { return join(this.dir, id); }

  /**
   * Where image `id`'s bytes live. Agents on the controller's host read them from here (the agent's image cache
   * takes a local path or URL); a snapshot writes its output here and is then adopted with `adoptFile`.
   */
  filePath(id: string): string { return this.path(id); }

  /** mark an image active from the file at filePath(id) (size + checksums computed); false if there is no file */
  async adoptFile(id: string): Promise<boolean> {
    const st = await stat(this.path(id)).catch(() => null);
    if (!st) return false;
    const md5 = createHash('md5'); const sha = createHash('sha512');
    for await (const chunk of createReadStream(this.path(id))) { md5.update(chunk as Buffer); sha.update(chunk as Buffer); }
    await this.store.updateImage(id, { status: 'active', size: st.size, checksum: md5.digest('hex'), osHashAlgo: 'sha512', osHashValue: sha.digest('hex') });
    return true;
  }

  private visible(ctx: RequestContext | null, i: Image): boolean {
    return !ctx || isAdmin(ctx) || i.visibility === 'public' || i.visibility === 'community' || i.owner === ctx.projectId;
  }

  async get(ctx: RequestContext | null, id: string): Promise<Image> {
    const i = await this.store.getImage(id);
    if (!i || !this.visible(ctx, i)) throw notFound(`No image found with ID ${id}`);
    return i;
  }

  list(ctx: RequestContext, q: { name?: string; status?: string; visibility?: string; limit?: number; marker?: string }): Promise<Image[]> {
    return this.store.listImages({ projectId: ctx.projectId, isAdmin: isAdmin(ctx), ...q });
  }

  async create(ctx: RequestContext | null, n: NewImage): Promise<Image> {
    if ((n.visibility === 'public') && ctx && !isAdmin(ctx)) throw forbidden('You are not authorized to complete publicize_image action.');
    const id = n.id ?? randomUUID();
    if (await this.store.getImage(id)) throw conflict(`Image with identifier ${id} already exists!`);
    const t = new Date().toISOString();
    const img: Image = {
      id, name: n.name ?? null, status: 'queued', visibility: n.visibility ?? 'shared', owner: ctx?.projectId ?? null,
      diskFormat: n.diskFormat ?? null, containerFormat: n.containerFormat ?? null, size: null, checksum: null,
      osHashAlgo: null, osHashValue: null, minDisk: n.minDisk ?? 0, minRam: n.minRam ?? 0, protected: n.protected ?? false,
      properties: n.properties ?? {}, tags: n.tags ?? [], createdAt: t, updatedAt: t,
    };
    await this.store.createImage(img);
    return img;
  }

  async update(ctx: RequestContext, id: string, changes: Partial<Image>): Promise<Image> {
    const i = await this.get(ctx, id);
    if (!isAdmin(ctx) && i.owner !== ctx.projectId) throw forbidden('You are not permitted to modify this image.');
    await this.store.updateImage(id, changes);
    return this.get(ctx, id);
  }

  /**
   * Bytes of a snapshot an agent on another machine took: written to filePath(id) (temp file + rename); the
   * createImage task adopts them (adoptFile) when the driver returns. Returns the size.
   */
  async receiveFile(id: string, body: Readable): Promise<number> {
    const i = await this.store.getImage(id);
    if (!i || i.status === 'active' || i.status === 'deleted') throw notFound(`No image found with ID ${id} awaiting data`);
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(id)}.part-${randomUUID()}`;
    try {
      await pipeline(body, createWriteStream(tmp));
      await rename(tmp, this.path(id));
    } catch (e) {
      await rm(tmp, { force: true });
      throw new ApiError('bad_request', `Image upload failed: ${(e as Error).message}`);
    }
    return (await stat(this.path(id))).size;
  }

  /** stream the body into the image file, computing size, md5 checksum and sha512 multihash */
  async upload(ctx: RequestContext | null, id: string, body: Readable): Promise<Image> {
    const i = await this.get(ctx, id);
    if (ctx && !isAdmin(ctx) && i.owner !== ctx.projectId) throw forbidden('You are not permitted to upload data to this image.');
    if (i.status !== 'queued') throw conflict(`Image status transition from ${i.status} to saving is not allowed`);
    await mkdir(this.dir, { recursive: true });
    await this.store.updateImage(id, { status: 'saving' });
    const tmp = `${this.path(id)}.part-${randomUUID()}`;
    const md5 = createHash('md5'); const sha = createHash('sha512');
    let size = 0;
    const tap = new Transform({ transform(chunk: Buffer, _e, cb) { md5.update(chunk); sha.update(chunk); size += chunk.length; cb(null, chunk); } });
    try {
      await pipeline(body, tap, createWriteStream(tmp));
      await rename(tmp, this.path(id));
    } catch (e) {
      await rm(tmp, { force: true });
      await this.store.updateImage(id, { status: 'queued' });
      throw new ApiError('bad_request', `Image upload failed: ${(e as Error).message}`);
    }
    await this.store.updateImage(id, { status: 'active', size, checksum: md5.digest('hex'), osHashAlgo: 'sha512', osHashValue: sha.digest('hex') });
    return this.get(ctx, id);
  }

  async download(ctx: RequestContext | null, id: string): Promise<{ image: Image; stream: Readable; size: number }> {
    const i = await this.get(ctx, id);
    if (i.status !== 'active') throw new ApiError('not_found', 'The requested image has no data', 204);
    const st = await stat(this.path(id)).catch(() => null);
    if (!st) throw notFound(`Image ${id} has no data`);
    return { image: i, stream: createReadStream(this.path(id)), size: st.size };
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    const i = await this.get(ctx, id);
    if (!isAdmin(ctx) && i.owner !== ctx.projectId) throw forbidden('You are not permitted to delete this image.');
    if (i.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
    await this.store.deleteImage(id);
    await rm(this.path(id), { force: true });
  }

  /**
   * Removes an image the compute service made and owns the lifecycle of (a rotated-out backup, an unshelved
   * server's snapshot): row and bytes, no policy check. Idempotent (a re-driven task step calls it again).
   */
  async remove(id: string): Promise<void> {
    await this.store.deleteImage(id);
    await rm(this.path(id), { force: true });
  }

  validateName(n: unknown): void { if (n !== null && typeof n === 'string' && n.length > 255) throw badRequest('Name too long'); }
}
