import { BlockList, isIP } from 'node:net';

const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Strips the IPv4-mapped IPv6 prefix that dual-stack sockets report for IPv4 peers. */
export function normalizeAddress(address: string): string {
  const mapped = V4_MAPPED.exec(address);
  return mapped ? mapped[1] : address;
}

/** A set of CIDR blocks, parsed once, that answers "is this address inside?". */
export class AddressList {
  private constructor(
    private readonly blocks: BlockList,
    readonly entries: readonly string[],
  ) {}

  /** Parses `10.0.0.0/8, ::1/128, 192.168.1.7`; throws an Error naming the first bad entry. */
  static parse(text: string): AddressList {
    const blocks = new BlockList();
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    for (const entry of entries) {
      const [address, prefixText, extra] = entry.split('/');
      const family = isIP(address);
      const maxPrefix = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
        throw new Error(`"${entry}" is not an address or CIDR block`);
      }
      blocks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
    return new AddressList(blocks, entries);
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  contains(address: string): boolean {
    const normalized = normalizeAddress(address);
    const family = isIP(normalized);
    if (family === 0 || this.isEmpty) return false;
    return this.blocks.check(normalized, family === 4 ? 'ipv4' : 'ipv6');
  }
}
