import { MemoryBackend } from '../../src/index.js';
import { describeBackendContract } from './backend-contract.js';

describeBackendContract('memory', async (options) => new MemoryBackend(options));
