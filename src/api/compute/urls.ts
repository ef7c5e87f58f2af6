/** Link building: Nova's "self" links carry the version path, "bookmark" links do not. */
import { PREFIX, type ControllerConfig } from '../../controller/config.js';

export interface Urls { versioned: string; bookmark: string; root: string; image: string; }

export function computeUrls(cfg: ControllerConfig): Urls {
  const base = cfg.publicUrl.replace(/\/+$/, '');
  return {
    root: `${base}${PREFIX.compute}`,
    versioned: `${base}${PREFIX.compute}/v2.1`,
    bookmark: `${base}${PREFIX.compute}`,
    image: `${base}${PREFIX.image}`,
  };
}

export function links(u: Urls, collection: string, id: string) {
  return [
    { rel: 'self', href: `${u.versioned}/${collection}/${id}` },
    { rel: 'bookmark', href: `${u.bookmark}/${collection}/${id}` },
  ];
}
