/**
 * A client's grants: the only groups its consumers may ever be in. A grant
 * is a group name, or a prefix ending in `*` granting every group that
 * starts with it.
 */
export class Grants {
  private readonly names: ReadonlySet<string>;
  private readonly prefixes: readonly string[];

  constructor(readonly list: readonly string[]) {
    this.names = new Set(list.filter((grant) => !grant.endsWith('*')));
    this.prefixes = list.filter((grant) => grant.endsWith('*')).map((grant) => grant.slice(0, -1));
  }

  allows(group: string): boolean {
    return this.names.has(group) || this.prefixes.some((prefix) => group.startsWith(prefix));
  }

  /** The first of `groups` these grants do not allow, if any. */
  firstRefused(groups: Iterable<string>): string | undefined {
    for (const group of groups) if (!this.allows(group)) return group;
    return undefined;
  }

  /** The groups a consumer joins when it names none: its plain grants. */
  get plain(): string[] {
    return [...this.names];
  }

  /**
   * What a consumer joins by default: the groups chosen at registration that
   * are still granted (grants may have narrowed since), or else the plain grants.
   */
  defaults(chosen: readonly string[] | null): string[] {
    return chosen === null ? this.plain : chosen.filter((group) => this.allows(group));
  }
}
