/** Persistence of source leases; bound to its TypeORM implementation in LeasesModule. */
export abstract class LeaseRepository {
  /** Takes or renews `owner`'s lease on a source for `leaseMs`; false while another owner holds it. */
  abstract hold(source: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Gives up every lease `owner` holds, so that another instance takes them at once. */
  abstract releaseAll(owner: string): Promise<void>;
}
