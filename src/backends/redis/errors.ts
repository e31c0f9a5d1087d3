import { BackendError } from '../../core/errors.js';

// Error replies that mean "this node or slot cannot serve right now" (a
// failover, a restart, a resharding), not "the command was wrong". Redis puts
// the error's code in its first word; these are the protocol's codes.
const UNAVAILABLE_REPLIES = new Set(['CLUSTERDOWN', 'TRYAGAIN', 'LOADING', 'MASTERDOWN', 'READONLY', 'MOVED', 'ASK', 'NOREPLICAS', 'BUSY', 'UNBLOCKED']);

// node-redis's error replies: ErrorReply and its subclasses (their `name` stays 'Error').
const NODE_REDIS_REPLY_ERRORS = new Set(['ErrorReply', 'SimpleError', 'BlobError']);

/** True for an error reply from Redis, from ioredis or node-redis (as opposed to a connection or client failure). */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && (error.name === 'ReplyError' || NODE_REDIS_REPLY_ERRORS.has(error.constructor.name));
}

/** True when Redis answered NOSCRIPT: the batch script is not in this node's script cache. */
export function isNoScript(error: unknown): boolean {
  return isReplyError(error) && error.message.startsWith('NOSCRIPT');
}

/**
 * The {@link BackendError} for a failure of the client or of Redis: an error reply
 * is `query_failed` unless its code says the node is unavailable; anything
 * else (connection closed, retries exhausted, cluster unreachable) is
 * `unavailable`.
 */
export function toBackendError(error: unknown): BackendError {
  if (isReplyError(error)) {
    const code = error.message.split(' ', 1)[0] ?? '';
    if (UNAVAILABLE_REPLIES.has(code)) return new BackendError('unavailable', `Redis cannot serve the operation: ${error.message}`, { cause: error });
    return new BackendError('query_failed', `Redis rejected the operation: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError('unavailable', `Redis is unreachable: ${message}`, { cause: error });
}
