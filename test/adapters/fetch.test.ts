import { describeAdapter } from './support/adapter-suite.js';
import { fetchApp } from './support/fetch-app.js';

describeAdapter('fetch (Request/Response)', fetchApp);
