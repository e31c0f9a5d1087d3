/**
 * `sessionkit/express-session`: a store for express-session over any
 * sessionkit backend, for apps that keep express-session and change one line.
 *
 * ```ts
 * app.use(session({ store: new SessionkitStore(backend), secret, resave: false, saveUninitialized: false }));
 * ```
 */
export { SessionkitStore, supportsEnumeration, type EnumerableBackend, type SessionkitStoreOptions, type StoredSession } from './store.js';
