/**
 * `sessionkit/testkit`: the conformance suite every sessionkit backend passes,
 * for a backend of your own. Call {@link runBackendConformance} at the top
 * level of a vitest test file with a factory that makes a fresh backend:
 *
 *     runBackendConformance('my store', async (options) => new MyBackend(options));
 *
 * Needs `vitest` (an optional peer dependency); nothing else imports it.
 */
export { runBackendConformance, type BackendFactory, type ConformanceOptions, type FactoryOptions } from './backend-conformance.js';
