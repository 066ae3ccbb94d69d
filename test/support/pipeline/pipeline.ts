import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailCatcher } from '../mail/mail-catcher.js';
import { consumerHeaders, TestSocket } from '../net/ws-client.js';
import { createConsumer, startExperienceApi, type RunningExperienceApi } from '../processes/experience-api.js';
import { SystemApiProcess } from '../processes/system-api.js';
import { withLogs } from '../processes/with-logs.js';
import { ReceivedEntities } from './received-entities.js';

/** Something between system-api and experience-api that a test can fail or cut: a TCP proxy, an HTTP relay. */
export interface Relay {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PipelineOptions<R extends Relay> {
  /** Names the work folder. */
  readonly name: string;
  /** A real SMTP server, with system-api's alerts mailed to it and folded over 1 s. */
  readonly mail?: boolean;
  /** What system-api reaches experience-api through; experience-api itself when not given. */
  readonly relay?: (experienceApiUrl: string) => R;
  /** More variables for every system-api, read once the suite's own beforeAll ran. */
  readonly env?: () => Record<string, string>;
  /** The sources file; `inbox` is a folder of the pipeline's own for directory sources. */
  readonly sources: (inbox: string) => string;
  /** false: the suite creates and starts its instances with `instance()`. */
  readonly startSystem?: boolean;
}

/**
 * The pipeline the system-api fault suites run against: a real experience-api
 * with one connected consumer counting every entity it receives, optionally a
 * relay in between and a mail catcher, and system-api as a real process fed by
 * the suite's sources. `use` registers its start and stop with jest; declare
 * it after any beforeAll that starts the upstreams its sources name.
 */
export class Pipeline<R extends Relay = Relay> {
  private experienceApi?: RunningExperienceApi;
  private socket?: TestSocket;
  private entities?: ReceivedEntities;
  private catcher?: MailCatcher;
  private between?: R;
  private readonly instances: SystemApiProcess[] = [];
  private readonly folders: string[] = [];
  private inboxPath = '';

  private constructor(private readonly options: PipelineOptions<R>) {}

  static use<R extends Relay = Relay>(options: PipelineOptions<R>): Pipeline<R> {
    const pipeline = new Pipeline(options);
    beforeAll(() => pipeline.start(), 90_000);
    afterAll(() => pipeline.stop());
    return pipeline;
  }

  get experience(): RunningExperienceApi {
    return required(this.experienceApi, 'experience-api');
  }

  get consumer(): TestSocket {
    return required(this.socket, 'the consumer');
  }

  /** Every entity the consumer received, counted by id. */
  get received(): ReceivedEntities {
    return required(this.entities, 'the consumer');
  }

  get smtp(): MailCatcher {
    return required(this.catcher, 'the mail catcher (option mail)');
  }

  get relay(): R {
    return required(this.between, 'the relay (option relay)');
  }

  /** The first system-api instance. */
  get system(): SystemApiProcess {
    return required(this.instances[0], 'system-api');
  }

  get inbox(): string {
    return this.inboxPath;
  }

  /** Drops a file into the inbox the way a careful producer does: written aside, then renamed in. */
  drop(name: string, text: string): void {
    writeFileSync(join(this.inboxPath, `.${name}`), text);
    renameSync(join(this.inboxPath, `.${name}`), join(this.inboxPath, name));
  }

  /** Subjects of the mails caught so far, in order. */
  subjects(): string[] {
    return this.smtp.mails.map((mail) => mail.subject ?? '');
  }

  /** A further system-api over the same sources, in a work folder of its own; not started. */
  instance(label: string, env: Record<string, string> = {}): SystemApiProcess {
    const workDir = mkdtempSync(join(tmpdir(), `${this.options.name}-${label}-`));
    this.folders.push(workDir);
    const system = new SystemApiProcess({
      workDir,
      experienceApiUrl: this.between?.url ?? this.experience.httpUrl,
      env: {
        ...(this.catcher ? { SMTP_URL: this.catcher.url(), ALERT_EMAIL_TO: 'oncall@example.test', ALERT_FOLD_WINDOW: '1s' } : {}),
        ...this.options.env?.(),
        ...env,
      },
      sources: this.options.sources(this.inboxPath),
    });
    this.instances.push(system);
    return system;
  }

  /** A test body whose failure ends with the last lines every system-api printed. */
  logs(body: () => Promise<void>): () => Promise<void> {
    return withLogs(() => this.instances, body);
  }

  private async start(): Promise<void> {
    if (this.options.mail) this.catcher = await MailCatcher.start();
    this.experienceApi = await startExperienceApi();
    const credentials = await createConsumer(this.experienceApi);
    this.socket = await TestSocket.open(`${this.experienceApi.wsUrl}/ws/publish`, { headers: consumerHeaders(credentials.clientId, credentials.token) });
    this.entities = new ReceivedEntities(this.socket);
    const welcome = await this.socket.next();
    if (welcome.type !== 'welcome') throw new Error(`the consumer's first frame is not a welcome: ${JSON.stringify(welcome)}`);
    if (this.options.relay) {
      this.between = this.options.relay(this.experienceApi.httpUrl);
      await this.between.start();
    }
    const shared = mkdtempSync(join(tmpdir(), `${this.options.name}-`));
    this.folders.push(shared);
    this.inboxPath = join(shared, 'inbox');
    mkdirSync(this.inboxPath);
    if (this.options.startSystem !== false) await this.instance('system').start();
  }

  private async stop(): Promise<void> {
    this.socket?.socket.terminate();
    await Promise.all(this.instances.map((system) => system.stop()));
    await this.between?.stop().catch(() => undefined);
    await this.experienceApi?.close();
    await this.catcher?.stop();
    for (const folder of this.folders) rmSync(folder, { recursive: true, force: true });
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not started`);
  return value;
}
