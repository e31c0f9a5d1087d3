// proxy.ts (Next 16's name for middleware.ts; on Next 15.5 use middleware.ts with runtime: 'nodejs'):
// guards /account and renews the session's expiry, which Server Components cannot do.
import { NextResponse, type NextRequest } from 'next/server.js';
import { commitSession, loadSession } from 'sessionkit/fetch';
import { sessions } from './session.js';

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const context = await loadSession(sessions, request);
  if (context.session.get('user') === undefined) return NextResponse.redirect(new URL('/login', request.url));
  const response = NextResponse.next();
  await commitSession(context, response.headers);
  return response;
}

export const config = { matcher: '/account/:path*' };
