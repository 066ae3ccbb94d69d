import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';

/**
 * The worker thread's whole program, plain JavaScript run with `eval` so that it needs no file of
 * its own beside the app's bundle. It opens PGlite (the same package and options as the app had
 * in process: booleans serialised as TRUE/FALSE, as typeorm-pglite did), answers each request
 * with PGlite's own result (rows, fields, command, affectedRows, rowCount), and an error as its message, name and
 * every plain field (code, detail, constraint…), which the app turns back into an Error. PGlite
 * runs one statement at a time; requests wait in its own queue, in the order they came.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
// the first place that finds the package: beside the app's code, else the working folder
const { PGlite, types } = (() => {
  for (const [index, from] of workerData.resolveFrom.entries()) {
    try {
      return createRequire(from)('@electric-sql/pglite');
    } catch (error) {
      if (index === workerData.resolveFrom.length - 1) throw error;
    }
  }
})();

function plainError(error) {
  const plain = { message: String(error && error.message !== undefined ? error.message : error), name: error && error.name, fields: {} };
  if (error && typeof error === 'object') {
    for (const [key, value] of Object.entries(error)) {
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) plain.fields[key] = value;
    }
  }
  return plain;
}

const bool = (value) => (value === true || value === 'true' || value === 1 ? 'TRUE' : value === false || value === 'false' || value === 0 ? 'FALSE' : value);
const opening = PGlite.create({ dataDir: workerData.dataDir, serializers: { [types.BOOL]: bool } });
opening.then(
  () => parentPort.postMessage({ id: 0 }),
  (error) => parentPort.postMessage({ id: 0, error: plainError(error) }),
);

parentPort.on('message', async ({ id, sql, params, close }) => {
  try {
    const db = await opening;
    if (close) {
      await db.close();
      parentPort.postMessage({ id });
      parentPort.close();
      return;
    }
    // as typeorm-pglite: parameters go through the extended protocol, a statement without them
    // through the simple one (several statements in one string answer the last one's result)
    const result = params && params.length > 0 ? await db.query(sql, params) : (await db.exec(sql)).at(-1) ?? { rows: [] };
    const { rows, fields, command, affectedRows, rowCount } = result;
    parentPort.postMessage({ id, result: { rows, fields, command, affectedRows, rowCount } });
  } catch (error) {
    parentPort.postMessage({ id, error: plainError(error) });
  }
});
`;

interface PlainError {
  readonly message: string;
  readonly name?: string;
  readonly fields: Record<string, unknown>;
}

interface Reply {
  readonly id: number;
  readonly result?: Result;
  readonly error?: PlainError;
}

interface Field {
  readonly name: string;
  readonly dataTypeID: number;
}

interface Result {
  readonly rows?: Record<string, unknown>[];
  readonly fields?: readonly Field[];
}

// date, timestamp, timestamptz; bytea
const DATE_TYPES = new Set([1082, 1114, 1184]);
const BYTEA = 17;

/**
 * Makes the dates and byte arrays of a result this realm's own. They arrive as the realm that
 * created the Worker sees them, which is this one in an app; a test runner that runs the code in
 * a context of its own (Jest's vm modules) would otherwise get values failing `instanceof Date`.
 */
function ownRealm(result: Result): Result {
  const fields = result.fields?.filter((field) => DATE_TYPES.has(field.dataTypeID) || field.dataTypeID === BYTEA);
  if (!fields?.length || !result.rows) return result;
  for (const row of result.rows) {
    for (const { name, dataTypeID } of fields) {
      const value = row[name];
      if (value === null || typeof value !== 'object') continue;
      if (dataTypeID === BYTEA) {
        if (!(value instanceof Uint8Array)) row[name] = new Uint8Array(value as ArrayLike<number>);
      } else if (!(value instanceof Date)) row[name] = new Date((value as { getTime(): number }).getTime());
    }
  }
  return result;
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** Reports the worker gone as pg reports a lost server, so that `isDatabaseUnavailable` says so. */
function workerGone(reason: string): Error {
  return Object.assign(new Error(`Connection terminated: the embedded database's worker thread ${reason}`), { code: '08006' });
}

function revive(plain: PlainError): Error {
  const error = Object.assign(new Error(plain.message), plain.fields);
  if (plain.name) error.name = plain.name;
  return error;
}

/**
 * PGlite in a worker thread of its own: its queries run there, never on this event loop, which
 * only posts each statement and reads back its rows. The worker holds the process open only
 * while a request is out, so an app that forgets to close it still exits.
 */
export class PGliteWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private gone?: Error;
  private closing?: Promise<void>;
  /** Settles when PGlite has opened its folder (or failed to). */
  readonly ready: Promise<void>;

  /** `resolveFrom`: files (paths or URLs) from which `@electric-sql/pglite` is looked for, in turn. */
  constructor(dataDir: string, resolveFrom: readonly string[]) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { dataDir, resolveFrom }, stdout: false, stderr: false });
    this.worker.unref();
    this.ready = this.request(0).then(() => undefined);
    // whoever connects hears of a failure to open; this only keeps it from counting as unhandled
    this.ready.catch(() => undefined);
    this.worker.on('message', (reply: Reply) => this.answer(reply));
    this.worker.on('error', (error) => this.fail(workerGone(`failed: ${error.message}`)));
    this.worker.on('exit', (code) => this.fail(workerGone(`exited (code ${code})`)));
  }

  /** Runs one statement: PGlite's result, or its error as an Error with the same fields. */
  query(sql: string, params?: readonly unknown[]): Promise<unknown> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    const answer = this.request(id);
    try {
      this.worker.postMessage({ id, sql, params: params && params.length > 0 ? params : undefined });
    } catch (error) {
      // a parameter that cannot be copied to the thread (a function, say): this query alone fails
      this.settle(id)?.reject(error as Error);
    }
    return answer;
  }

  /** Closes PGlite (its files complete on disk) and ends the thread; idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.gone) {
        const id = this.nextId++;
        const closed = this.request(id);
        this.worker.postMessage({ id, close: true });
        // a worker that cannot close within this long is ended all the same
        await Promise.race([closed.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      }
      this.fail(workerGone('was closed'));
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private request(id: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
    });
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    return pending;
  }

  private answer(reply: Reply): void {
    const pending = this.settle(reply.id);
    if (!pending) return;
    if (reply.error) pending.reject(revive(reply.error));
    else pending.resolve(reply.result && ownRealm(reply.result));
  }

  private fail(error: Error): void {
    this.gone ??= error;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(this.gone);
  }
}

type Callback = (error: Error | null, result?: unknown) => void;

/**
 * What TypeORM's postgres driver takes as its `pg` module (`options.driver`): a `Pool` whose
 * `connect` hands out the one PGlite session and whose `query` runs on the worker, the interface
 * typeorm-pglite offered in process; `end` calls `close`.
 */
export function workerDriver(database: PGliteWorker, close: () => Promise<void>): unknown {
  class Pool extends EventEmitter {
    connect(callback: (error: Error | null, client: Pool | null, done: () => void) => void): Promise<void> {
      return database.ready.then(
        () => callback(null, this, () => undefined),
        (error: Error) => callback(error, null, () => undefined),
      );
    }

    query(sql: string, parameters?: unknown[] | Callback, callback?: Callback): Promise<unknown> {
      const done = typeof parameters === 'function' ? parameters : callback;
      const params = typeof parameters === 'function' ? undefined : parameters;
      const answer = database.query(sql, params);
      // with a callback, the error goes there alone, not also to a promise nobody awaits
      return done
        ? answer.then(
            (result) => done(null, result),
            (error: Error) => done(error),
          )
        : answer;
    }

    end(callback?: (error: Error | null) => void): void {
      close().then(
        () => callback?.(null),
        (error: Error) => callback?.(error),
      );
    }
  }
  return { Pool };
}
