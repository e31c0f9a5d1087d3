import { describeAdapter } from './support/adapter-suite.js';
import { fastifyApp } from './support/fastify-app.js';

describeAdapter('Fastify 5', fastifyApp);
