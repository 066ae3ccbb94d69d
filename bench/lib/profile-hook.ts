import { renameSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * Loaded with `node --import` into a server under test when `--profile` is
 * given: samples the CPU from start, and writes a `.cpuprofile` (open it in
 * Chrome DevTools) on SIGUSR2. `--cpu-prof` would only write at a clean exit,
 * which a server stopped by a signal never has.
 */
const file = process.env.BENCH_PROFILE_FILE;
if (file) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  process.on('SIGUSR2', () => {
    void session.post('Profiler.stop').then(({ profile }) => {
      writeFileSync(`${file}.part`, JSON.stringify(profile));
      renameSync(`${file}.part`, file);
      process.send?.({ profiled: file });
    });
  });
}
