/**
 * What compute routes need; built once by computePlugin and passed to every route file. Routes call services and
 * never the store: ComputeDeps has none. The services the ComputeController does not build yet are built here
 * from the store the app hands in (computeDeps); they belong in ComputeController, which can take them over
 * unchanged (same constructors), after which ComputeInputs.store goes away.
 */
import type { Store } from '../../store/index.js';
import type { ControllerConfig } from '../../controller/config.js';
import type { ComputeController } from '../../controller/compute/index.js';
import type { ImageService } from '../../controller/images/service.js';
import { ServerLookup } from '../../controller/compute/access.js';
import { FlavorService } from '../../controller/compute/flavors.js';
import { InstanceActionService } from '../../controller/compute/instance-actions.js';
import { ServerMetaService } from '../../controller/compute/server-meta.js';
import type { Urls } from './urls.js';

/** what the app passes to computePlugin */
export interface ComputeInputs {
  store: Store;
  cfg: ControllerConfig;
  compute: ComputeController;
  images: ImageService;
  urls: Urls;
}

export interface ComputeDeps extends Omit<ComputeInputs, 'store'> {
  flavors: FlavorService;
  serverMeta: ServerMetaService;
  serverLookup: ServerLookup;
  instanceActions: InstanceActionService;
}

export function computeDeps({ store, ...rest }: ComputeInputs): ComputeDeps {
  const serverLookup = new ServerLookup(store);
  return {
    ...rest,
    flavors: new FlavorService(store),
    serverMeta: new ServerMetaService(store, rest.compute.quotas),
    serverLookup,
    instanceActions: new InstanceActionService(store, serverLookup),
  };
}
