import { register } from 'node:module';
register(new URL('./resolve-logger.mjs', import.meta.url));
