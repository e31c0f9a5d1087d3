/** A Node-style callback: the error first (`null` on success), then the result. */
export type NodeCallback<T> = (error: unknown, result?: T) => void;

/**
 * Runs `work` for an API that takes an optional Node-style callback and also
 * returns a promise (express-session's store and `req.session` methods).
 * Without a callback it is `work()`'s promise. With one, the outcome goes to
 * the callback on a later tick (so an exception the callback throws is never
 * taken for a failure of `work`), and the promise resolves to the result, or
 * to undefined after a failure, never rejecting: the callback got the error.
 * A callback that is not a function is a `TypeError` at once.
 */
export function callbackOrPromise<T>(callback: NodeCallback<T> | undefined, work: () => Promise<T>): Promise<T> {
  if (callback !== undefined && typeof callback !== 'function') throw new TypeError('the callback must be a function');
  let run: Promise<T>;
  try {
    run = work();
  } catch (error) {
    run = Promise.reject(error);
  }
  if (callback === undefined) return run;
  return run.then(
    (result) => {
      process.nextTick(callback, null, result);
      return result;
    },
    (error: unknown) => {
      process.nextTick(callback, error);
      return undefined as T;
    },
  );
}
