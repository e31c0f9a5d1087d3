import { describeAdapter } from './support/adapter-suite.js';
import { honoApp } from './support/hono-app.js';

describeAdapter('Hono 4', honoApp);
