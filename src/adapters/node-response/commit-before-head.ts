import { OutgoingMessage, ServerResponse, type OutgoingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { applySessionHeaders, type HeaderPair } from '../../http/headers.js';
import { nodeHeaderTarget } from './header-target.js';

type HeldMethod = 'writeHead' | 'write' | 'end' | 'flushHeaders';

/** Headers that describe the body the handler wanted to send; an error response replaces that body. */
const BODY_HEADERS = ['content-length', 'content-type', 'content-encoding', 'etag', 'last-modified'];

/** The head as it stood when the handler sent it: later changes cannot reach a head node has written. */
interface SentHead {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: OutgoingHttpHeaders;
}

/**
 * Saves the session before `res` writes its head, scs-style: the first call
 * that would write the head (`writeHead`, `write`, `end`, `flushHeaders`)
 * starts `commit()`. When it answers with the headers as a value (a commit
 * with no store call), they are added and the call goes through at once.
 * When it answers with a promise, that call and every later one are held
 * until the commit settles. On success the session headers are added and the held calls run in
 * order; on failure they are dropped (no body, no `Set-Cookie`: the client
 * keeps its old cookie) and `onFailure(error)` produces the error response
 * with the head still unwritten.
 *
 * While the commit is pending the response looks to the application as it
 * would have without sessions, so code written for plain node:http or
 * Express behaves the same:
 * - `headersSent` is true, and `writableEnded` once `end()` was called; the
 *   head is the one the handler sent (a later `statusCode` or `setHeader`
 *   does not change it, as node would have refused it);
 * - a second `end()`, and a `write()` after `end()`, are ignored (node would
 *   emit `ERR_STREAM_WRITE_AFTER_END` with no listener and end the process);
 * - `write()` returns false and `'drain'` follows once the held chunks are
 *   written, so `pipe()` pauses and memory stays bounded while the store is slow;
 * - `res.destroy()` (a stream that errored) and a `socket.destroy()` (Express's
 *   final handler after an error that followed the response) take effect once
 *   the held calls ran: the client gets the head and the bytes sent so far, as
 *   it would have. A client that went away meanwhile is not written to.
 *
 * With `shared` (Express's `express.response`, just below node's
 * `ServerResponse.prototype` on `res`'s chain) the wrappers are defined on it
 * once and `res` gets only its hold; otherwise, or when `res` already has one
 * of these methods as its own property (an earlier middleware's wrapper,
 * which must run after the hold), they are assigned on `res`. Wrappers
 * installed later by other middleware keep working either way.
 *
 * `context` is kept with the hold and read back by {@link heldContext}: an
 * adapter's per-request state rides on the one property the response gets,
 * rather than costing the request a property of its own.
 */
export function commitBeforeHead(res: ServerResponse, commit: () => HeaderPair[] | Promise<HeaderPair[]>, onFailure: (error: unknown) => void, shared?: object, context?: unknown): void {
  const onPrototype = shared !== undefined && !WRAPPED.some((member) => Object.hasOwn(res, member));
  (res as HeldResponse)[HOLD] = new ResponseHold(res, commit, onFailure, onPrototype, context);
  if (onPrototype) {
    if (!wrappedPrototypes.has(shared)) {
      Object.defineProperties(shared, prototypeMembers);
      wrappedPrototypes.add(shared);
    }
    return;
  }
  // Plain assignments, not defineProperty: on every request's hot path, and V8 caches the transition.
  res.writeHead = onResponse.writeHead as ServerResponse['writeHead'];
  res.write = onResponse.write as ServerResponse['write'];
  res.end = onResponse.end as ServerResponse['end'];
  res.flushHeaders = onResponse.flushHeaders as ServerResponse['flushHeaders'];
}

/**
 * Where a response keeps its hold, the one property it gets on Express: V8
 * shares no hidden classes between Express's responses (Express sets their
 * prototype), so each added property costs a new one and inline-cache misses
 * in node's code. Not a WeakMap, whose values V8's young-generation collector
 * keeps alive (each response's graph would be promoted).
 */
const HOLD = Symbol('sessionkit.commitBeforeHead');
type HeldResponse = ServerResponse & { [HOLD]?: ResponseHold };
const holdOf = (res: ServerResponse): ResponseHold | undefined => (res as HeldResponse)[HOLD];

/** The `context` given to {@link commitBeforeHead} for `res`; undefined when `res` is not a response it held. */
export function heldContext(res: unknown): unknown {
  return typeof res === 'object' && res !== null ? (res as HeldResponse)[HOLD]?.context : undefined;
}

/** Where a socket whose `destroy` is deferred finds the hold of the response it carries. */
const SOCKET_HOLD = Symbol('sessionkit.commitBeforeHead.socket');
type HeldSocket = Socket & { [SOCKET_HOLD]?: ResponseHold };
type Method = (...args: unknown[]) => unknown;
type Wrapped = HeldMethod | 'destroy';
const WRAPPED: readonly Wrapped[] = ['writeHead', 'write', 'end', 'flushHeaders', 'destroy'];
const nodeResponse = ServerResponse.prototype as unknown as Record<Wrapped, Method>;

const WAITING = 0;
const SAVING = 1;
const OPEN = 2;

/**
 * The wrapper of `member`, shared by every response (each finds its hold by
 * `this`, as node's own methods need `this` to be the response). On a
 * prototype it acts only for holds made there and is node's own for every
 * other response: one without a hold, or one wrapped on itself, whose
 * wrappers may call it as the method they wrapped.
 */
function wrapperOf(member: Wrapped, onPrototype: boolean): Method {
  return function (this: ServerResponse, ...args: unknown[]): unknown {
    const hold = holdOf(this);
    if (hold === undefined || hold.onPrototype !== onPrototype) return nodeResponse[member].apply(this, args);
    return member === 'destroy' ? hold.destroy(args[0] as Error | undefined) : hold.call(member, args);
  };
}
const wrappers = (onPrototype: boolean) => Object.fromEntries(WRAPPED.map((member) => [member, wrapperOf(member, onPrototype)])) as Record<Wrapped, Method>;
/** The wrappers assigned on a response (`destroy` only while held). */
const onResponse = wrappers(false);

const outgoingHeadersSent = Object.getOwnPropertyDescriptor(OutgoingMessage.prototype, 'headersSent')?.get;
const outgoingWritableEnded = Object.getOwnPropertyDescriptor(OutgoingMessage.prototype, 'writableEnded')?.get;
/**
 * `headersSent` and `writableEnded` while held, as the response would read
 * without sessions; node's own once the hold is over (or without one).
 * Defined on a response when the hold starts and never deleted (a delete
 * would turn the response into a slow dictionary object for the rest of its
 * life), or once on the shared prototype.
 */
const heldFlags: PropertyDescriptorMap = {
  headersSent: {
    get(this: ServerResponse) {
      return holdOf(this)?.state === SAVING ? true : outgoingHeadersSent?.call(this);
    },
    configurable: true,
  },
  writableEnded: {
    get(this: ServerResponse) {
      const hold = holdOf(this);
      return hold?.state === SAVING ? hold.ended : outgoingWritableEnded?.call(this);
    },
    configurable: true,
  },
};

/** What a shared prototype gets, once. */
const prototypeMembers: PropertyDescriptorMap = {
  ...heldFlags,
  ...Object.fromEntries(Object.entries(wrappers(true)).map(([member, value]) => [member, { value, writable: true, configurable: true }])),
};
/** Prototypes that carry {@link prototypeMembers}. */
const wrappedPrototypes = new WeakSet<object>();

/** `socket.destroy(error?)` while held: Express's final handler destroys the socket of a response it thinks sent; a healthy socket waits for the held bytes. */
function heldSocketDestroy(this: HeldSocket, error?: Error): Socket {
  const hold = this[SOCKET_HOLD];
  const kept = hold?.socketDestroy;
  const own = kept === undefined || kept === heldSocketDestroy ? Socket.prototype.destroy : kept;
  if (hold === undefined || hold.state !== SAVING || error !== undefined || this.destroyed || !this.writable) return own.call(this, error) as Socket;
  hold.destroySocket = true;
  return this;
}

/** One response's hold: the methods it wraps, the calls held while the commit is pending, and what was asked meanwhile. */
class ResponseHold {
  state: typeof WAITING | typeof SAVING | typeof OPEN = WAITING;
  ended = false;
  /** A `res.destroy(error?)` asked for while held: `null` when none. */
  destroyResponse: { error: Error | undefined } | null = null;
  destroySocket = false;
  held: Array<{ method: HeldMethod; args: unknown[] }> | undefined = undefined;
  head: SentHead | undefined = undefined;
  // The methods as they were (node's, or an earlier middleware's wrappers).
  readonly writeHead: Method;
  readonly write: Method;
  readonly end: Method;
  readonly flushHeaders: Method;
  responseDestroy: Method;
  socket: Socket | null = null;
  socketDestroy: Method | undefined = undefined;

  constructor(
    readonly res: ServerResponse,
    readonly commit: () => HeaderPair[] | Promise<HeaderPair[]>,
    readonly onFailure: (error: unknown) => void,
    /** Whether the wrappers are a shared prototype's (else they are assigned on `res`). */
    readonly onPrototype: boolean,
    /** What the caller keeps with this response (see {@link heldContext}). */
    readonly context: unknown,
  ) {
    // On a prototype, the wrappers sit between `res` and node's methods.
    const methods = onPrototype ? nodeResponse : (res as unknown as Record<HeldMethod | 'destroy', Method>);
    this.writeHead = methods.writeHead;
    this.write = methods.write;
    this.end = methods.end;
    this.flushHeaders = methods.flushHeaders;
    this.responseDestroy = methods.destroy;
  }

  call(method: HeldMethod, args: unknown[]): unknown {
    const res = this.res;
    if (this.state === OPEN) return this[method].apply(res, args);
    if (this.state === WAITING) {
      if (res.headersSent || this.begin()) return this[method].apply(res, args);
    }
    if (this.ended) {
      // After end(): node would throw or emit an error nobody listens to; the response is already decided.
      if (method === 'end') return res;
      return method === 'write' ? false : method === 'flushHeaders' ? undefined : res;
    }
    if (method === 'end') this.ended = true;
    (this.held ??= []).push({ method, args });
    return method === 'write' ? false : method === 'flushHeaders' ? undefined : res;
  }

  /**
   * Starts the commit. True when it was done at once: its headers are on the
   * response, which is open. Otherwise the response is held until it settles.
   */
  begin(): boolean {
    let saving: Promise<HeaderPair[]>;
    try {
      const result = this.commit();
      if (!Array.isArray(result)) {
        saving = result;
      } else {
        // Nothing was held: no head to keep, no destroy to defer, no promise turn before the head.
        applySessionHeaders(nodeHeaderTarget(this.res), result);
        this.state = OPEN;
        return true;
      }
    } catch (error) {
      saving = Promise.reject(error);
    }
    this.hold(saving);
    return false;
  }

  hold(saving: Promise<HeaderPair[]>): void {
    const res = this.res;
    this.state = SAVING;
    // getHeaders() is already a fresh copy (with no prototype, so `in` sees header names only).
    this.head = { statusCode: res.statusCode, statusMessage: res.statusMessage, headers: res.getHeaders() };
    if (!this.onPrototype) {
      Object.defineProperties(res, heldFlags);
      this.responseDestroy = res.destroy as Method;
      res.destroy = onResponse.destroy as ServerResponse['destroy'];
    }
    // The request's: a pipelined response gets its socket only once the one before it finished.
    const socket = (res.socket ?? res.req?.socket ?? null) as HeldSocket | null;
    this.socket = socket;
    if (socket !== null && socket.destroy !== undefined) {
      // A pipelined response held while the one before it still is: the socket's own destroy is the one that one kept.
      const previous = socket[SOCKET_HOLD];
      this.socketDestroy = socket.destroy === heldSocketDestroy ? (previous?.socketDestroy ?? (Socket.prototype.destroy as Method)) : (socket.destroy as Method);
      socket[SOCKET_HOLD] = this;
      socket.destroy = heldSocketDestroy as Socket['destroy'];
    }
    saving.then(
      (pairs) => this.release(pairs),
      (error: unknown) => this.fail(error),
    );
  }

  restore(): void {
    this.state = OPEN;
    if (!this.onPrototype) this.res.destroy = this.responseDestroy as ServerResponse['destroy'];
    const socket = this.socket as HeldSocket | null;
    // Only the latest hold on the socket puts its destroy back: an earlier one must not undo a later one's.
    if (socket !== null && this.socketDestroy !== undefined && socket[SOCKET_HOLD] === this) {
      socket.destroy = this.socketDestroy as Socket['destroy'];
      socket[SOCKET_HOLD] = undefined;
    }
  }

  /** `res.destroy(error?)`: deferred while held, until the held calls ran. */
  destroy(error: Error | undefined): ServerResponse {
    const res = this.res;
    if (this.state !== SAVING || this.clientGone()) return this.responseDestroy.call(res, error) as ServerResponse;
    this.destroyResponse ??= { error };
    return res;
  }

  clientGone(): boolean {
    return this.res.destroyed || this.socket === null || this.socket.destroyed;
  }

  /**
   * Runs `destroy` once the held bytes went out, as node had written them before the destroy: after 'finish'
   * for an ended response, else after the turn that uncorks the socket the replayed writes went to.
   */
  afterHeldBytes(destroy: () => void): void {
    if (this.ended) {
      if (this.res.writableFinished) destroy();
      else this.res.once('finish', destroy);
    } else setImmediate(destroy);
  }

  runDeferredDestroys(): void {
    const asked = this.destroyResponse;
    const socket = this.socket;
    if (asked !== null) this.afterHeldBytes(() => this.res.destroy(asked.error));
    else if (this.destroySocket && socket !== null) this.afterHeldBytes(() => socket.destroy());
  }

  release(pairs: HeaderPair[]): void {
    const res = this.res;
    this.restore();
    const held = this.held ?? [];
    this.held = undefined;
    if (this.clientGone()) return;
    try {
      if (!res.headersSent) {
        if (this.head !== undefined) resetHead(res, this.head);
        applySessionHeaders(nodeHeaderTarget(res), pairs);
      }
    } catch (error) {
      this.fail(error);
      return;
    }
    let lastWrite: unknown = true;
    let wrote = false;
    for (const { method, args } of held) {
      const result = this[method].apply(res, args);
      if (method === 'write') {
        wrote = true;
        lastWrite = result;
      }
    }
    // Writers were told `false`: they wait for a 'drain' that node emits only if its own last write said so.
    if (wrote && lastWrite !== false && !this.ended) process.nextTick(() => res.emit('drain'));
    this.runDeferredDestroys();
  }

  fail(error: unknown): void {
    const res = this.res;
    this.restore();
    this.held = undefined;
    if (this.clientGone()) return;
    // The handler gave up on this response (a stream error): nothing to answer, as without sessions.
    if (this.destroyResponse !== null) return void res.destroy(this.destroyResponse.error);
    if (!res.headersSent) {
      if (this.head !== undefined) resetHead(res, this.head);
      for (const name of BODY_HEADERS) res.removeHeader(name);
    }
    this.onFailure(error);
    this.runDeferredDestroys();
  }
}

/** Puts back the status and headers the handler had when it sent the head. */
function resetHead(res: ServerResponse, head: SentHead): void {
  // Written only when changed, and compared on one copy of the headers: this runs for every response, and
  // a handler rarely changes its head after sending it.
  if (res.statusCode !== head.statusCode) res.statusCode = head.statusCode;
  if (res.statusMessage !== head.statusMessage) res.statusMessage = head.statusMessage;
  const sent = head.headers;
  const current = res.getHeaders();
  for (const name in current) if (!(name in sent)) res.removeHeader(name);
  for (const name in sent) {
    const value = sent[name];
    if (value !== undefined && current[name] !== value) res.setHeader(name, value);
  }
}
