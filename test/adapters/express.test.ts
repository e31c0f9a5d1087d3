import { describeAdapter } from './support/adapter-suite.js';
import { expressApp } from './support/express-app.js';

describeAdapter('Express 5', expressApp, { handlerOutageStatus: 500 });
