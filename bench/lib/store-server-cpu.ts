// The CPU time of the store's own server (PostgreSQL or Redis) on this machine, read from /proc.
// On a 2-core machine the database runs beside the app and the load generator, so a request's
// cost is the app's CPU plus the server's; the app's alone hides what a store's statements cost.
// A PostgreSQL connection is a process of its own that ends with its pool: the postmaster's
// `cutime`/`cstime` (children it has reaped) keep the time of the ones that ended, so the sum
// over every `postgres` process, with their reaped children, counts them all.
import { readdirSync, readFileSync } from 'node:fs';

/** Which server process names count for a store kind. */
export type StoreServer = 'postgres' | 'redis';

const PROCESS_NAMES: Record<StoreServer, string> = { postgres: 'postgres', redis: 'redis-server' };
// Linux's USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 10 ms.
const MICROS_PER_TICK = 10_000;

/**
 * CPU time so far (µs, user + system, with reaped children) of every local process of `server`,
 * or undefined where there is no /proc (not Linux) or no such process: then the column stays empty.
 */
export function storeServerCpuMicros(server: StoreServer): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let ticks = 0;
  let found = false;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // ended while we read
    }
    // The name is in parentheses and may hold spaces: the fields after it are split from its last ')'.
    const nameEnd = stat.lastIndexOf(')');
    if (stat.slice(stat.indexOf('(') + 1, nameEnd) !== PROCESS_NAMES[server]) continue;
    const fields = stat.slice(nameEnd + 2).split(' ');
    // Fields 14-17 of stat(5) (utime, stime, cutime, cstime) are 11-14 here, counted from field 3.
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    found = true;
  }
  return found ? ticks * MICROS_PER_TICK : undefined;
}
