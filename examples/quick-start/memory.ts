import { MemoryBackend } from 'sessionkit';

const sessions = new MemoryBackend({ maxSessions: 10_000 });

const key = await sessions.generate({ value: JSON.stringify({ user: 'ada' }) });
const found = await sessions.get(key);
if (found.ok) console.log(found.value, `expires in ${found.period} s`);

await sessions.clear(key);
console.log(await sessions.get(key)); // { ok: false, error: 'NotFound' }
await sessions.close();
