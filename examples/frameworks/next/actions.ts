'use server';
// app/actions.ts: server actions, e.g. <form action={increment}>.
import { withActionSession } from './action-session.js';

export async function increment(): Promise<number> {
  return withActionSession(async (session) => (await session.update((data) => ({ ...data, count: (data.count ?? 0) + 1 }))).count ?? 0);
}

export async function logIn(form: FormData): Promise<void> {
  await withActionSession(async (session) => {
    session.regenerate();
    session.set('user', String(form.get('user') ?? ''));
  });
}
