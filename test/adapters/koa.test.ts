import { describeAdapter } from './support/adapter-suite.js';
import { koaApp } from './support/koa-app.js';

describeAdapter('Koa 3', koaApp);
