// The Nest recipe in a real Nest application from @nestjs/testing, driven over HTTP with supertest.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBackend } from 'sessionkit';
import { AppModule, useSessions } from './main.js';

const open: Array<{ app: INestApplication; backend: MemoryBackend }> = [];
afterEach(async () => {
  for (const { app, backend } of open.splice(0)) {
    await app.close();
    await backend.close();
  }
});

async function start() {
  const backend = new MemoryBackend();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = useSessions(moduleRef.createNestApplication({ logger: false }), backend);
  await app.init();
  open.push({ app, backend });
  return request(app.getHttpServer());
}

const cookieOf = (res: request.Response) => (res.headers['set-cookie'] as unknown as string[])[0]!.split(';')[0]!;

describe('NestJS recipe (Express platform)', () => {
  it('@UserSession() counts with the cookie of every adapter; 50 parallel increments all count', async () => {
    const http = await start();
    const first = await http.get('/count').expect(200, { count: 1 });
    expect(first.headers['set-cookie']).toEqual([expect.stringMatching(/^sid=[A-Za-z0-9_-]{40}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax$/)]);
    const cookie = cookieOf(first);
    const counts = await Promise.all(Array.from({ length: 50 }, async () => (await http.get('/count').set('Cookie', cookie)).body.count as number));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
  });

  it('the guard refuses without a login; login regenerates the key', async () => {
    const http = await start();
    await http.get('/me').expect(403);
    const anonymous = cookieOf(await http.get('/count'));
    const login = await http.post('/login?user=ann').set('Cookie', anonymous).expect(201, { user: 'ann' });
    const cookie = cookieOf(login);
    expect(cookie).not.toBe(anonymous);
    await http.get('/me').set('Cookie', cookie).expect(200, { user: 'ann' });
    await http.get('/me').set('Cookie', anonymous).expect(403);
  });
});
