import { runBackendConformance } from 'sessionkit/testkit';
import { MapBackend } from './map-backend.js';

runBackendConformance('MapBackend (docs/writing-a-backend.md)', async (options) => new MapBackend(options), {
  ownersSkipReason: 'MapBackend keeps no sessions by owner',
  enumerationSkipReason: 'MapBackend cannot list its sessions',
});
