// `npm start`: checks that no other run holds the ports or the embedded database folders, builds
// both apps when their sources changed, starts experience-api, then system-api once experience-api
// answers, prefixes each line of output with the app's name, and prints the README's walkthrough.
// SIGINT, SIGTERM or npm going away stops both apps; each app also stops by itself when this
// process goes (scripts/exit-with-parent.mjs). experience-api exiting stops everything; system-api
// failing (a bad sources file) stops system-api only, and its problem is printed last.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { walkthrough } from './walkthrough.mjs';

const say = (line) => console.log(`[npm start] ${line}`);
const refuse = (line) => {
  console.error(`[npm start] ${line}`);
  process.exit(1);
};

process.chdir(resolve(fileURLToPath(import.meta.url), '../..'));
if (existsSync('.env')) process.loadEnvFile('.env');

const env = process.env;
const host = env.HOST ?? '127.0.0.1';
// what to connect to: this machine when the apps listen on every interface
const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
const scheme = env.TLS_CERT_FILE ? 'https' : 'http';
const apps = [
  {
    name: 'experience-api',
    entry: 'dist/apps/experience-api/main.js',
    // PORT alone still means experience-api, the app a newcomer talks to
    port: Number(env.EXPERIENCE_PORT ?? env.PORT ?? 3000),
    dataDir: './data/experience-api',
  },
  {
    name: 'system-api',
    entry: 'dist/apps/system-api/main.js',
    port: Number(env.SYSTEM_PORT ?? 3001),
    dataDir: './data/system-api',
  },
];
const [experience, system] = apps;
const gateway = `${scheme}://${reachable}:${experience.port}`;
experience.env = { PORT: String(experience.port), HOST: host, SYSTEM_API_URL: env.SYSTEM_API_URL ?? `${scheme}://${reachable}:${system.port}` };
system.env = { PORT: String(system.port), HOST: host, EXPERIENCE_API_URL: env.EXPERIENCE_API_URL ?? gateway };

for (const app of apps) {
  if (!Number.isInteger(app.port) || app.port < 1 || app.port > 65_535) refuse(`${app.name}'s port "${app.port}" is not a port (1 to 65535)`);
}
if (experience.port === system.port) refuse(`experience-api and system-api cannot share port ${experience.port}: set EXPERIENCE_PORT and SYSTEM_PORT apart`);
const embedded = !env.DATABASE_URL;
if (embedded && env.PGLITE_DATA_DIR) {
  refuse(
    'PGLITE_DATA_DIR would give both apps one database folder: npm start keeps them in ./data/experience-api and ./data/system-api (unset it, or start each app alone)',
  );
}

/** The live process on this machine holding an embedded database folder's lock (libs/database/src/data-folder-lock.ts), if any. */
function lockHolder(dataDir) {
  try {
    const owner = JSON.parse(readFileSync(`${resolve(dataDir)}.lock`, 'utf8'));
    if (owner.host !== hostname()) return owner;
    process.kill(owner.pid, 0);
    return owner;
  } catch (error) {
    return error.code === 'EPERM' ? { pid: 'of another user' } : undefined;
  }
}

function portInUse(port) {
  return new Promise((done) => {
    const probe = createServer()
      .once('error', (error) => done(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? error.code : undefined))
      .once('listening', () => probe.close(() => done(undefined)))
      .listen({ port, host, exclusive: true });
  });
}

// Refuse at once, before building anything over a running copy's dist/.
for (const app of apps) {
  const holder = embedded && lockHolder(app.dataDir);
  if (holder) {
    refuse(
      `${app.name}'s database folder ${resolve(app.dataDir)} is in use by process ${holder.pid}: another npm start is running. Stop it first (Ctrl-C in its terminal, or kill ${holder.pid})`,
    );
  }
  const problem = await portInUse(app.port);
  if (problem === 'EADDRINUSE') {
    refuse(
      `port ${app.port} (${app.name}) is in use on ${host}: is another npm start running? Stop it, or choose free ports: EXPERIENCE_PORT=… SYSTEM_PORT=… npm start`,
    );
  }
  if (problem) refuse(`port ${app.port} (${app.name}) cannot be opened on ${host}: ${problem}`);
}

/** Every file a build reads, so that a build is skipped only when none of them changed. */
function buildInputs(folder, found = []) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) buildInputs(path, found);
    else if (/\.(ts|tsx|json|css|html)$/.test(entry.name) && !entry.name.endsWith('.spec.ts')) found.push(path);
  }
  return found;
}

function sourceStamp() {
  const hash = createHash('sha256');
  const files = [
    ...buildInputs('apps'),
    ...buildInputs('libs'),
    ...buildInputs('packages/client/src'),
    'packages/client/package.json',
    'packages/client/tsconfig.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'nest-cli.json',
    'rspack.config.js',
    'package-lock.json',
  ];
  for (const file of files.sort())
    hash
      .update(`${file}\0`)
      .update(existsSync(file) ? readFileSync(file) : '')
      .update('\0');
  return hash.digest('hex');
}

const exitWithParent = pathToFileURL(resolve('scripts/exit-with-parent.mjs')).href;
const running = new Map();
let stopping = false;
let systemProblem;
let walkthroughShown = false;

function stopAll(reason, code) {
  if (stopping) return;
  stopping = true;
  say(running.size > 0 ? `${reason}: stopping ${[...running.keys()].join(' and ')}…` : reason);
  for (const child of running.values()) child.kill('SIGTERM');
  const forced = setTimeout(() => {
    for (const [name, child] of running) {
      say(`${name} did not stop within 8 s: killing it`);
      child.kill('SIGKILL');
    }
  }, 8_000);
  const done = () => {
    if (running.size > 0) return;
    clearTimeout(forced);
    say('stopped');
    process.exit(code);
  };
  for (const child of running.values()) child.once('close', () => queueMicrotask(done));
  done();
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAll(signal, 0));
// npm forwards SIGINT and SIGTERM (the script is exec'd); if npm itself is killed, notice
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stopAll("npm start's parent process is gone", 1);
}, 500).unref();

function start(app) {
  const child = spawn(process.execPath, ['--import', exitWithParent, app.entry], {
    env: { ...env, ...app.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  running.set(app.name, child);
  const problems = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      // the apps' own log lines already start with their name; anything else they print gets it here
      console.log(line.startsWith(`[${app.name}] `) ? line : `[${app.name}] ${line}`);
      if (stream === child.stderr) problems.push(line);
    });
  }
  // 'close', not 'exit': every line the app wrote has been read by then
  child.once('close', (code, signal) => {
    running.delete(app.name);
    if (stopping) return;
    // a bad sources file is system-api's problem alone: consumers stay connected meanwhile
    if (app === system && signal === null && code !== 0) {
      systemProblem = { code, problems };
      if (walkthroughShown) showSystemProblem();
      return;
    }
    stopAll(`${app.name} exited (${signal ?? `code ${code}`})`, code ?? 1);
  });
  return child;
}

function showSystemProblem() {
  say(`system-api stopped (exit code ${systemProblem.code}); experience-api keeps running on ${gateway}. What system-api said:`);
  for (const line of systemProblem.problems.slice(-20)) say(`  ${line}`);
  say('fix it, then stop this npm start (Ctrl-C) and run npm start again');
}

function answers(port) {
  return new Promise((done) => {
    const socket = connect({ port, host: reachable.replace(/^\[|\]$/g, '') })
      .once('connect', () => {
        socket.destroy();
        done(true);
      })
      .once('error', () => done(false));
    socket.setTimeout(1_000, () => {
      socket.destroy();
      done(false);
    });
  });
}

/** Resolves true once the app's port answers, false when the app exits first. */
async function ready(app, child) {
  const deadline = Date.now() + 180_000;
  while (!stopping && running.get(app.name) === child && Date.now() < deadline) {
    if (await answers(app.port)) return running.get(app.name) === child;
    await new Promise((wake) => setTimeout(wake, 200));
  }
  if (!stopping && running.get(app.name) === child) stopAll(`${app.name} did not answer on port ${app.port} within 180 s`, 1);
  return false;
}

const STAMP = 'dist/.npm-start-sources';
const stamp = sourceStamp();
const CLIENT_SDK = 'packages/client/dist/index.js';
const CONSOLE = 'dist/console/index.html';
if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === stamp && apps.every((app) => existsSync(app.entry)) && existsSync(CLIENT_SDK) && existsSync(CONSOLE)) {
  say('build: up to date (no source changed since the last build)');
} else {
  say(`building the client SDK, experience-api, system-api and the console (${existsSync(STAMP) ? 'sources changed' : 'first build'}; 10 to 40 s)…`);
  const started = Date.now();
  // the client SDK first: the walkthrough's consumer (examples/node-consumer.mjs) imports it
  const builds = [
    { name: 'the client SDK', args: ['node_modules/typescript/bin/tsc', '-p', 'packages/client/tsconfig.json'] },
    ...apps.map((app) => ({ name: app.name, args: ['node_modules/@nestjs/cli/bin/nest.js', 'build', app.name] })),
    { name: 'the console', args: ['node_modules/vite/bin/vite.js', 'build', '--config', 'apps/console/vite.config.ts', '--logLevel', 'warn'] },
  ];
  for (const { name, args } of builds) {
    const build = spawn(process.execPath, args, { stdio: 'inherit' });
    running.set(`the build of ${name}`, build);
    const [code] = await once(build, 'exit');
    running.delete(`the build of ${name}`);
    if (stopping) await new Promise(() => {});
    if (code !== 0) refuse(`the build of ${name} failed (above); nothing was started`);
  }
  mkdirSync('dist', { recursive: true });
  writeFileSync(STAMP, stamp);
  say(`built in ${((Date.now() - started) / 1_000).toFixed(1)} s`);
}

if (await ready(experience, start(experience))) {
  const systemStarted = await ready(system, start(system));
  if (!stopping) {
    say(`ready: experience-api on ${gateway}${systemStarted ? `, system-api on ${scheme}://${reachable}:${system.port}` : ''}`);
    const tokenFile = env.ADMIN_TOKEN || env.NODE_ENV === 'production' ? undefined : relative('.', 'data/admin-token');
    if (env.NODE_ENV === 'production' && !env.ADMIN_TOKEN) {
      say('NODE_ENV=production and no ADMIN_TOKEN: the admin API is off, so no walkthrough');
    } else {
      say('try it: paste these commands into a shell in this folder (the README\'s "A consumer from start to finish"):');
      console.log(`\n${walkthrough(gateway, tokenFile).join('\n')}\n`);
      say(`operator console: ${gateway}/console/ (sign in with the admin token${tokenFile ? `: cat ${tokenFile}` : ''})`);
    }
    say('Ctrl-C stops both apps');
    walkthroughShown = true;
    if (systemProblem) showSystemProblem();
  }
}
