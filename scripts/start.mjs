// `npm start`: builds both apps, starts experience-api, then system-api once
// experience-api answers, and prefixes each line of output with the app's name.
// Ctrl-C (or SIGTERM) stops both; if either exits, the other is stopped too.
import { execSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const apps = [
  { name: 'experience-api', entry: 'dist/apps/experience-api/apps/experience-api/src/main.js', health: `http://127.0.0.1:${process.env.EXPERIENCE_PORT ?? 3000}/health`, env: { PORT: process.env.EXPERIENCE_PORT ?? '3000' } },
  { name: 'system-api', entry: 'dist/apps/system-api/apps/system-api/src/main.js', env: { PORT: process.env.SYSTEM_PORT ?? '3001' } },
];

execSync('npx nest build experience-api && npx nest build system-api', { stdio: 'inherit' });

const children = [];
let stopping = false;

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 5_000).unref();
  Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : null))).then(() => process.exit(code));
}

function start(app) {
  const child = spawn(process.execPath, [app.entry], { env: { ...process.env, ...app.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${app.name}] ${line}`));
  }
  child.once('exit', (code) => {
    if (!stopping) console.log(`[${app.name}] exited with ${code}; stopping the suite`);
    stopAll(code ?? 1);
  });
  children.push(child);
}

async function answers(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

start(apps[0]);
for (let waited = 0; waited < 60_000 && !stopping && !(await answers(apps[0].health)); waited += 250) {
  await new Promise((resolve) => setTimeout(resolve, 250));
}
if (!stopping) start(apps[1]);
