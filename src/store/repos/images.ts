/** Images (the Glance subset the controller serves). */
import type { Image } from '../types.js';

export interface ImageRepo {
  createImage(i: Image): Promise<void>;
  getImage(id: string): Promise<Image | null>;
  listImages(opts: { projectId: string | null; isAdmin: boolean; name?: string; status?: string; visibility?: string; limit?: number; marker?: string }): Promise<Image[]>;
  updateImage(id: string, changes: Partial<Omit<Image, 'id' | 'createdAt'>>): Promise<void>;
  deleteImage(id: string): Promise<boolean>;
}
