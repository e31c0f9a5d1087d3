/**
 * sessionkit: server-side sessions for Node.js HTTP servers.
 * This entry point loads no database driver. It holds what applications use
 * beside their adapter: the backend contract and its two capability guards (owners, enumeration),
 * `BackendError`, `MemoryBackend`, key and period helpers. Writing a backend:
 * `sessionkit/backend-kit` and `sessionkit/testkit`.
 */
export type {
  Backend,
  ClearByOwnerOptions,
  CompareAndSetResult,
  GenerateOptions,
  GetResult,
  OwnedSession,
  OwnerIndexBackend,
  OwnerIndexOptions,
  OwnerLimitPolicy,
  SessionError,
  SetOptions,
} from './core/contract.js';
export { DEFAULT_MAX_SESSIONS_PER_OWNER, requireOwners, supportsOwners } from './core/contract.js';
export { supportsEnumeration, type EnumerableBackend, type LiveSession } from './core/enumeration.js';
export { BackendError, isBackendError, isOwnerSessionLimitError, OwnerSessionLimitError, type BackendErrorCode } from './core/errors.js';
export { digestKey, generateKey, isWellFormedKey, KEY_LENGTH } from './core/keys.js';
export { MAX_EXPIRY_SECONDS, ONE_WEEK } from './core/period.js';
export type { SessionEvent, SessionEventListener } from './core/events.js';
export { DEFAULT_MAX_VALUE_BYTES, MAX_OWNER_LENGTH } from './core/validate.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory/index.js';
