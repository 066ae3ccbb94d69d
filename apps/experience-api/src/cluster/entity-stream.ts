/** The Redis keys of the cluster's entity stream, under the deployment's prefix. */
export interface StreamKeys {
  /** The last `seq` given out. */
  readonly seq: string;
  /** The stream of entity frames, by `seq`: entry id `<seq>-0`. */
  readonly stream: string;
  /** Changes when Redis lost the stream (a restart without persistence): readers then start it over. */
  readonly epoch: string;
  /** Followed by an entity id: its `seq`, for the idempotency window. */
  readonly idPrefix: string;
}

export function streamKeys(prefix: string): StreamKeys {
  return { seq: `${prefix}seq`, stream: `${prefix}entities`, epoch: `${prefix}epoch`, idPrefix: `${prefix}id:` };
}

/** Stream entry fields: the frame, and the groups it is for ('' for every consumer). */
export const FRAME_FIELD = 'f';
export const GROUPS_FIELD = 'g';

/**
 * Publishes a batch atomically, so that `seq` order is stream order on every
 * instance and an id recorded is an entity in the stream. For each entity:
 * an id seen inside the idempotency window answers its earlier `seq`
 * (negated: a duplicate); otherwise the next `seq` is taken, the frame is
 * completed around it and appended as entry `<seq>-0`, and the id recorded.
 *
 * `seq` never falls to or below `floor` (the highest this instance has seen),
 * nor below the stream's last entry: after Redis lost its counter, numbering
 * goes on from there instead of starting again at 1.
 *
 * KEYS: seq, stream, epoch. ARGV: floor, stream length, idempotency window
 * (ms), id key prefix, an epoch to set if there is none, then four per
 * entity: id, frame head, frame tail, groups.
 */
export const PUBLISH_SCRIPT = `
local floor = tonumber(ARGV[1])
redis.call('SET', KEYS[3], ARGV[5], 'NX')
if redis.call('EXISTS', KEYS[1]) == 0 then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
  if last then floor = math.max(floor, tonumber(string.match(last[1], '^(%d+)'))) end
end
local answers = {}
for i = 6, #ARGV, 4 do
  local idKey = ARGV[4] .. ARGV[i]
  local earlier = redis.call('GET', idKey)
  if earlier then
    answers[#answers + 1] = -tonumber(earlier)
  else
    local seq = redis.call('INCR', KEYS[1])
    if seq <= floor then
      seq = floor + 1
      redis.call('SET', KEYS[1], string.format('%d', seq))
    end
    local text = string.format('%d', seq)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], text .. '-0', '${FRAME_FIELD}', ARGV[i + 1] .. text .. ARGV[i + 2], '${GROUPS_FIELD}', ARGV[i + 3])
    redis.call('SET', idKey, text, 'PX', ARGV[3])
    answers[#answers + 1] = seq
    floor = seq
  end
end
return answers
`;

/** The epoch of the stream, set to `candidate` if Redis has none (first start, or the stream was lost). */
export const EPOCH_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
`;

/** The `seq` of a stream entry id (`<seq>-0`). */
export function seqOfEntryId(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** One entry as read: the frame to write and the groups it is for (undefined: every consumer). */
export interface StreamEntry {
  readonly seq: number;
  readonly frame: Buffer;
  readonly groups: readonly string[] | undefined;
}

/** Reads the entries of an `XREAD` reply (as Buffers); fields other than the frame and groups are ignored. */
export function parseEntries(entries: ReadonlyArray<[Buffer, Buffer[]]>): StreamEntry[] {
  return entries.map(([id, fields]) => {
    let frame: Buffer | undefined;
    let groups: readonly string[] | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i].toString();
      if (name === FRAME_FIELD) frame = fields[i + 1];
      else if (name === GROUPS_FIELD && fields[i + 1].length > 0) groups = JSON.parse(fields[i + 1].toString()) as string[];
    }
    if (frame === undefined) throw new Error(`stream entry ${id.toString()} has no frame`);
    return { seq: seqOfEntryId(id.toString()), frame, groups };
  });
}
