/**
 * `sessionkit/redis`: sessions in Redis or Redis Cluster through ioredis, an
 * optional peer dependency this entry point imports only as a type.
 */
export { RedisBackend, type RedisBackendOptions } from './redis-backend.js';
export type { RedisClient } from './client.js';
