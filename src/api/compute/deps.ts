/** What compute routes need; built once by the app and passed to every route file. */
import type { Store } from '../../store/index.js';
import type { ControllerConfig } from '../../controller/config.js';
import type { ComputeController } from '../../controller/compute/index.js';
import type { ImageService } from '../../controller/images/service.js';
import type { Urls } from './urls.js';

export interface ComputeDeps {
  store: Store;
  cfg: ControllerConfig;
  compute: ComputeController;
  images: ImageService;
  urls: Urls;
}
