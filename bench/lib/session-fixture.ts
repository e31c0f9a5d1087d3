import { randomBytes } from 'node:crypto';
import { ONE_WEEK } from '../../src/index.js';

// What express-session keeps for a logged-in user: its cookie and a user id (~120 bytes as JSON).
// Every store in every benchmark stores this same session.
const cookieExpires = new Date(Date.now() + ONE_WEEK * 1000).toISOString();

/** A session object as express-session stores it. */
export const sessionObject = () => ({
  cookie: { originalMaxAge: ONE_WEEK * 1000, expires: cookieExpires, httpOnly: true, path: '/' },
  userId: 'u_1234567',
});

/** The same session as the string sessionkit stores. */
export const sessionJson = JSON.stringify(sessionObject());

/** A new session id as express-session makes one: uid-safe's 24 random bytes as base64url. */
export const newSid = () => randomBytes(24).toString('base64url');
