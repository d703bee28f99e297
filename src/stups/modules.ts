import { consoleModule } from '../console/module.js';
import { essentialsModule } from '../essentials/module.js';
import { evenModule } from '../even/module.js';
import { fullstopModule } from '../fullstop/module.js';
import { kioModule } from '../kio/module.js';
import { mintModule } from '../mint/module.js';
import { sandboxModule } from '../sandbox/module.js';
import { pieroneModule } from '../pierone/module.js';
import type { ServiceModule } from '../platform/service-module.js';
import { teamsModule } from '../teams/module.js';
import { tokenServiceModule } from '../token-service/module.js';
import { usersModule } from '../users/module.js';

/**
 * Every service the platform runs. `stups up` and `stups serve` create them in this order,
 * so a module may read the contracts of any module above it (kio reads `teams`). Adding a
 * service is its folder plus one line here; its port comes from SERVICE_PORT_OFFSETS by name.
 */
export const MODULES: readonly ServiceModule[] = [
  teamsModule,
  usersModule,
  tokenServiceModule,
  kioModule,
  essentialsModule,
  pieroneModule,
  evenModule,
  mintModule,
  fullstopModule,
  sandboxModule,
  consoleModule,
];
