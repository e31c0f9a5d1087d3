import { describeAdapter } from './support/adapter-suite.js';
import { nodeApp } from './support/node-app.js';

describeAdapter('node:http', nodeApp);
