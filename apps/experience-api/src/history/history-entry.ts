/** One published entity as history keeps it: its frame exactly as consumers received it live. */
export interface HistoryEntry {
  readonly seq: number;
  /** Undefined: published to every consumer. */
  readonly groups: readonly string[] | undefined;
  readonly frame: Buffer;
}

/** An entry with what the database keeps beside it. */
export interface StoredEntity extends HistoryEntry {
  readonly id: string;
  readonly publishedAt: Date;
}

/** Whether a consumer in `groups` received the entry live: it went to everyone, or to one of its groups. */
export function entitles(entry: HistoryEntry, groups: ReadonlySet<string>): boolean {
  return entry.groups === undefined || entry.groups.some((group) => groups.has(group));
}
