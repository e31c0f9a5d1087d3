// Run by bench/memory.ts as `node --expose-gc <the benchmark's own flags> bench/lib/memory-child.ts <json>`, one
// store per process so that no other store's garbage is on the heap; prints one JSON line.
//   { mode: 'bytes', library, sessions, valueBytes }  heap growth per session after a GC
//   { mode: 'churn', library, total, maxSessions, valueBytes, checkpoints }  heap after a GC at each checkpoint
import { subjectFactories } from './memory-subjects.js';
import { sessionValue } from './memory-subjects.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const request = JSON.parse(process.argv[2] ?? '{}') as {
  mode: 'bytes' | 'churn';
  library: string;
  sessions?: number;
  total?: number;
  maxSessions?: number;
  valueBytes: number;
  checkpoints?: number;
};
const make = subjectFactories[request.library];
if (make === undefined) throw new Error(`unknown library ${request.library}`);

if (request.mode === 'bytes') {
  const sessions = request.sessions!;
  const subject = make({});
  const before = heapUsed();
  for (let i = 0; i < sessions; i++) await subject.create(sessionValue(i, request.valueBytes));
  const after = heapUsed();
  console.log(JSON.stringify({ library: subject.library, sessions, heapBefore: before, heapAfter: after, bytesPerSession: (after - before) / sessions }));
  await subject.close();
} else {
  const total = request.total!;
  const subject = make(request.maxSessions === undefined ? {} : { maxSessions: request.maxSessions });
  const step = Math.ceil(total / request.checkpoints!);
  const heap: { created: number; heapUsed: number }[] = [{ created: 0, heapUsed: heapUsed() }];
  for (let i = 0; i < total; i++) {
    await subject.create(sessionValue(i, request.valueBytes));
    if ((i + 1) % step === 0 || i + 1 === total) heap.push({ created: i + 1, heapUsed: heapUsed() });
  }
  console.log(JSON.stringify({ library: subject.library, total, maxSessions: request.maxSessions ?? null, heap }));
  await subject.close();
}
