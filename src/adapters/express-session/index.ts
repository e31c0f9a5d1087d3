/**
 * `sessionkit/express-session`: a store for express-session over any
 * sessionkit backend, for apps that keep express-session and change one line.
 *
 * ```ts
 * app.use(session({ store: new SessionkitStore(backend), secret, resave: false, saveUninitialized: false }));
 * ```
 */
export { SessionkitStore, type SessionkitStoreOptions, type StoredSession } from './store.js';
export { storeKeyOfSessionId } from './session-id.js';
export { supportsEnumeration, type EnumerableBackend, type LiveSession } from '../../core/enumeration.js';
