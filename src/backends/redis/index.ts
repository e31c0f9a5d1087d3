/**
 * `sessionkit/redis`: sessions in Redis or Redis Cluster through ioredis or
 * node-redis (`redis` v5+), optional peer dependencies this entry point
 * imports only as types (node-redis not even that: it is used by shape).
 */
export { RedisBackend, type RedisBackendOptions } from './redis-backend.js';
export type { NodeRedisClient, RedisClient } from './client.js';
