import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { Session } from 'node:inspector/promises';

/**
 * Loaded with `node --import` into every server under test when `--profile`
 * is given: the orchestrator starts and stops CPU sampling around the phase
 * it measures (over the IPC channel it spawned the server with), and each
 * stop leaves a `.cpuprofile` (open it in Chrome DevTools, or summarise it
 * with `node dist/bench/lib/profile-summary.js`). It also reports the heap
 * after a full collection, which tells memory held from garbage not yet
 * collected in the RSS figures.
 */
type ProfileMessage =
  | { readonly profile: 'start' }
  | { readonly profile: 'stop'; readonly file: string }
  | { readonly profile: 'memory' }
  | { readonly profile: 'heap'; readonly file: string };

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 250 });

process.on('message', (message: ProfileMessage) => {
  if (message?.profile === 'start') {
    void session.post('Profiler.start').then(() => process.send?.({ profiling: true }));
  } else if (message?.profile === 'memory') {
    // after full collections (the hook is loaded with --expose-gc), so garbage does not count as memory held
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    process.send?.({ memory: process.memoryUsage() });
  } else if (message?.profile === 'heap') {
    process.send?.({ heap: writeHeapSnapshot(message.file) });
  } else if (message?.profile === 'stop') {
    void session.post('Profiler.stop').then(({ profile }) => {
      writeFileSync(message.file, JSON.stringify(profile));
      process.send?.({ profiled: message.file });
    });
  }
});
// the IPC channel must not keep a server alive that was asked to stop
process.channel?.unref();
