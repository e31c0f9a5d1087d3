import type { HttpEvents } from '../http-events.js';
import type { RequestClient } from '../request-client.js';
import type { ResolvedSessionOptions } from '../session-options.js';

/** What the commit loop works with: the resolved options, the request's event reporter, and the client its writes record. */
export interface StoreContext {
  readonly options: ResolvedSessionOptions;
  readonly events: HttpEvents;
  /** The request's client as the options record it (`recordUserAgent`, `recordClientAddress`); absent: nothing recorded. */
  readonly client?: RequestClient | undefined;
}
