import { AppLogger } from './app-logger.js';
import type { LogSettings } from './log-settings.js';

const TEXT: LogSettings = { level: 'log', format: 'text', noColor: false };
const JSON_LINES: LogSettings = { level: 'log', format: 'json', noColor: false };

/** What the logger wrote to stdout and stderr while `act` ran. */
function captured(act: () => void): { stdout: string; stderr: string } {
  const written = { stdout: '', stderr: '' };
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].write = (chunk: string | Uint8Array) => {
      written[stream] += chunk.toString();
      return true;
    };
  }
  try {
    act();
  } finally {
    process.stdout.write = originals.stdout;
    process.stderr.write = originals.stderr;
  }
  return written;
}

describe(AppLogger.name, () => {
  describe('text', () => {
    it('writes no colour codes when stdout is not a terminal', () => {
      const sut = new AppLogger('system-api', TEXT, false);

      const { stdout, stderr } = captured(() => {
        sut.log('forwarded 3 items', 'OutboxForwarder');
        sut.warn('slow', 'OutboxForwarder');
        sut.error('failed', 'OutboxForwarder');
      });

      expect(stdout).toContain('[system-api]');
      expect(stdout).toContain('[OutboxForwarder] forwarded 3 items');
      expect(stderr).toContain('failed');
      expect(stdout + stderr).not.toContain('\x1b[');
    });

    it('colours a terminal, unless NO_COLOR is set', () => {
      const onTerminal = new AppLogger('system-api', TEXT, true);
      const noColor = new AppLogger('system-api', { ...TEXT, noColor: true }, true);

      expect(captured(() => onTerminal.log('hello', 'Test')).stdout).toContain('\x1b[');
      expect(captured(() => noColor.log('hello', 'Test')).stdout).not.toContain('\x1b[');
    });
  });

  describe('json', () => {
    it('writes one parseable object per line with time, level, app, pid, context and message', () => {
      const sut = new AppLogger('experience-api', JSON_LINES, true);

      const { stdout, stderr } = captured(() => {
        sut.log('listening', 'Bootstrap');
        sut.warn('multi\nline', 'Gateway');
        sut.error('broken', 'Error: broken\n    at x (file.js:1:1)', 'ApiErrorFilter');
      });

      const out = stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(out).toEqual([
        expect.objectContaining({ level: 'info', app: 'experience-api', pid: process.pid, context: 'Bootstrap', message: 'listening' }),
        expect.objectContaining({ level: 'warn', context: 'Gateway', message: 'multi\nline' }),
      ]);
      expect(new Date(out[0].time as string).toISOString()).toBe(out[0].time);
      const err = JSON.parse(stderr.trimEnd()) as Record<string, unknown>;
      expect(err).toMatchObject({ level: 'error', context: 'ApiErrorFilter', message: 'broken' });
      expect(err.stack).toContain('at x (file.js:1:1)');
      expect(stdout + stderr).not.toContain('\x1b[');
    });
  });

  describe('LOG_LEVEL', () => {
    it.each([
      ['error', ['error']],
      ['warn', ['warn', 'error']],
      ['log', ['log', 'warn', 'error']],
      ['info', ['log', 'warn', 'error']],
      ['debug', ['debug', 'log', 'warn', 'error']],
      ['verbose', ['verbose', 'debug', 'log', 'warn', 'error']],
    ] as const)('%s lets through %j', (level, expected) => {
      const sut = new AppLogger('system-api', { ...JSON_LINES, level }, false);

      const { stdout, stderr } = captured(() => {
        sut.verbose('verbose');
        sut.debug('debug');
        sut.log('log');
        sut.warn('warn');
        sut.error('error');
      });

      const messages = (stdout + stderr)
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { message: string }).message);
      expect(messages.sort()).toEqual([...expected].sort());
    });
  });

  describe('secrets', () => {
    it('cuts credentials out of URLs in messages and stacks, and masks secret-named fields of logged objects', () => {
      const sut = new AppLogger('system-api', JSON_LINES, false);

      const { stdout, stderr } = captured(() => {
        sut.warn('cannot reach postgres://app:S3cretPw@db:5432/push', 'Source');
        sut.error('failed', 'Error: at amqp://guest:G0uest@mq:5672/\n    at x (file.js:1:1)', 'Source');
        sut.log({ client_id: 'acme', client_secret: 'Sh0wMe', token: 'T0ken' }, 'Admin');
      });

      const text = stdout + stderr;
      expect(text).toContain('postgres://db:5432/push');
      expect(text).toContain('amqp://mq:5672/');
      for (const secret of ['S3cretPw', 'G0uest', 'Sh0wMe', 'T0ken']) expect(text).not.toContain(secret);
      expect(text).toContain('acme');
    });
  });
});
