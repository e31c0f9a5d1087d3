/**
 * `sessionkit/backend-kit`: what a store author builds a backend from.
 * Extend {@link BaseBackend} and implement its `store*` methods; it checks
 * every argument once, hashes keys, and reports errors through `onEvent`.
 * docs/writing-a-backend.md walks through one; `sessionkit/testkit` runs the
 * conformance suite against it. Applications need none of this.
 */
export { BaseBackend, NOT_FOUND, NOT_SET, type BackendOptions, type KeyStorageOptions } from '../core/base-backend.js';
export { emitEvent } from '../core/events.js';
export { assertKeyIsString, assertOwner, assertStorableValue, assertWholeNumberOption } from '../core/validate.js';
export { assertWholeSeconds } from '../core/period.js';
