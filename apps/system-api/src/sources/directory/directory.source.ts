import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ItemSink } from '../../sink/item-sink.js';
import { type PolledSource, SourceRefusedError, SourceUnavailableError } from '../source.js';
import type { DirectorySourceDefinition } from '../source-definition.js';

const READABLE = /\.(json|ndjson|jsonl)$/i;
const DONE_FOLDERS = ['processed', 'failed'] as const;

/**
 * Picks up new files in a folder: `*.json` (one item, or an array of items)
 * and `*.ndjson` (an item per line). A file still being written (changed
 * within `settle`, or a dot-file) waits for a later poll. A file whose items
 * are stored moves to `processed/`; one that cannot be parsed moves to
 * `failed/`.
 */
export class DirectorySource implements PolledSource {
  readonly mode = 'polled';

  constructor(private readonly definition: DirectorySourceDefinition) {}

  async poll(sink: ItemSink): Promise<void> {
    const { path } = this.definition;
    let names: string[];
    try {
      names = (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.') && READABLE.test(e.name)).map((e) => e.name);
    } catch (error) {
      throw new SourceUnavailableError(`cannot read folder ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (names.length > 0) await this.checkDoneFolders();
    for (const name of names.sort()) {
      const file = join(path, name);
      const info = await stat(file).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < this.definition.settleMs) continue;
      const text = await readFile(file, 'utf8');
      const items = this.parse(name, text);
      if (items === undefined) {
        await sink.setAside(text.slice(0, 4_096), `${name} is not valid JSON`);
        await this.moveTo('failed', name);
        continue;
      }
      await sink.store(items);
      await this.moveTo('processed', name);
    }
  }

  async close(): Promise<void> {}

  private parse(name: string, text: string): unknown[] | undefined {
    try {
      if (/\.json$/i.test(name)) {
        const value: unknown = JSON.parse(text);
        return Array.isArray(value) ? value : [value];
      }
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
    } catch {
      return undefined;
    }
  }

  /** Before reading anything: a file named like a done folder would let items be stored but their file never moved on. */
  private async checkDoneFolders(): Promise<void> {
    for (const folder of DONE_FOLDERS) {
      const target = join(this.definition.path, folder);
      const info = await stat(target).catch(() => undefined);
      if (info && !info.isDirectory()) {
        throw new SourceRefusedError(
          `${target} is a file, not a folder: move it away so that read files can be moved into ${folder}/; until then no file is read, and none is lost`,
        );
      }
    }
  }

  private async moveTo(folder: 'processed' | 'failed', name: string): Promise<void> {
    const target = join(this.definition.path, folder);
    await mkdir(target, { recursive: true });
    await rename(join(this.definition.path, name), join(target, name));
  }
}
