import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { levelsFrom, type LogSettings } from './log-settings.js';

/** Field names whose values are masked when an object is logged. */
const SECRET_FIELDS = ['token', 'secret', 'client_secret', 'password', 'authorization', 'admin_token', 'cookie'];
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi;

/** `postgres://app:pw@db/x` → `postgres://db/x`: a URL's user and password never reach the log. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1');
}

type JsonOptions = Parameters<ConsoleLogger['getJsonLogObject']>[1];

/**
 * The one logger of both apps, after `LOG_LEVEL` and `LOG_FORMAT`: text lines,
 * coloured only on a terminal without `NO_COLOR`, or one JSON object per line
 * (`time`, `level`, `app`, `pid`, `context`, `message`). Credentials inside
 * URLs are cut from every message and secret-named fields of logged objects
 * are masked, whatever the caller passed.
 */
export class AppLogger extends ConsoleLogger {
  constructor(
    private readonly app: string,
    settings: LogSettings,
    stdoutIsTerminal = process.stdout.isTTY === true,
  ) {
    super({
      prefix: app,
      logLevels: levelsFrom(settings.level),
      json: settings.format === 'json',
      colors: settings.format === 'text' && stdoutIsTerminal && !settings.noColor,
      redact: SECRET_FIELDS,
    });
  }

  protected override getTimestamp(): string {
    return new Date().toISOString();
  }

  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    const scrubbed = messages.map((message) => (typeof message === 'string' ? withoutUrlCredentials(message) : message));
    const stack = typeof errorStack === 'string' ? withoutUrlCredentials(errorStack) : errorStack;
    super.printMessages(scrubbed, context, logLevel, writeStreamType, stack, params);
  }

  protected override printStackTrace(stack: string): void {
    super.printStackTrace(stack && withoutUrlCredentials(stack));
  }

  /** One line per record, always: a log file or collector reads it as one event. */
  protected override printAsJson(message: unknown, options: JsonOptions): void {
    const { timestamp, level, pid, context, message: text, ...rest } = this.getJsonLogObject(message, options);
    const record = {
      time: new Date(timestamp).toISOString(),
      // collectors know "info"; Nest calls it "log"
      level: level === 'log' ? 'info' : level,
      app: this.app,
      pid,
      context: context ?? null,
      message: text,
      ...rest,
    };
    process[options.writeStreamType ?? 'stdout'].write(`${this.stringifyJsonLogObject(record)}\n`);
  }
}
