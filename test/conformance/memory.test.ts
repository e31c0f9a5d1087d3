import { MemoryBackend } from '../../src/index.js';
import { runBackendConformance } from '../../src/testkit/index.js';

runBackendConformance('memory', async (options) => new MemoryBackend(options));
