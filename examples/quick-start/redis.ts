import { Redis } from 'ioredis';
import { RedisBackend } from 'sessionkit/redis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const sessions = new RedisBackend(redis, { prefix: process.env.SESSION_PREFIX ?? 'myapp:sess:' });

const key = await sessions.generate({ value: JSON.stringify({ userId: 42 }), expiry: 3600 });
console.log(await sessions.get(key)); // { ok: true, value: '{"userId":42}', period: 3600 }
await sessions.clear(key);

await sessions.close(); // the client is yours: quit it
await redis.quit();
