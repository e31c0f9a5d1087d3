// app/api/counter/route.ts: a route handler owns its Response, so withSession fits as it is.
import { NextResponse } from 'next/server.js';
import { withSession } from 'sessionkit/fetch';
import { backend, sessionOptions, type AppSession } from './session.js';

export const GET = withSession<AppSession>(backend, sessionOptions, async (_request, session) => {
  const { count } = await session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }));
  return NextResponse.json({ count });
});
