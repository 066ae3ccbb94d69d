import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { outboxDatabase } from '../testing/outbox-database.js';
import { TypeOrmLeaseRepository } from './typeorm-lease.repository.js';

// On in-memory PGlite, or on the Postgres named by DATABASE_URL: the same migration either way.
describe(TypeOrmLeaseRepository.name, () => {
  let module: TestingModule;
  let sut: TypeOrmLeaseRepository;
  let run = 0;
  const source = () => `spec-${process.pid}-${Date.now().toString(36)}-${run++}`;
  /** Moves the lease's expiry into the past, as if its holder had stopped renewing it. */
  const runOut = (name: string) => module.get(DataSource).query(`UPDATE source_leases SET expires_at = now() - interval '1 second' WHERE source = $1`, [name]);

  beforeAll(async () => {
    module = await Test.createTestingModule({
      imports: [outboxDatabase('lease-spec')],
      providers: [TypeOrmLeaseRepository],
    }).compile();
    sut = module.get(TypeOrmLeaseRepository);
  });
  afterAll(async () => {
    await module.close();
  });

  it('gives a source to one owner at a time, and lets the owner renew it', async () => {
    const name = source();
    expect(await sut.hold(name, 'instance-a', 30_000)).toBe(true);
    expect(await sut.hold(name, 'instance-b', 30_000)).toBe(false);
    expect(await sut.hold(name, 'instance-a', 30_000)).toBe(true);
  });

  it('gives a source to another owner once the lease ran out', async () => {
    const name = source();
    await sut.hold(name, 'instance-a', 30_000);
    await runOut(name);
    expect(await sut.hold(name, 'instance-b', 30_000)).toBe(true);
    expect(await sut.hold(name, 'instance-a', 30_000)).toBe(false);
  });

  it("hands an owner's sources to the next instance at once when it releases them, and no one else's", async () => {
    const [mine, theirs] = [source(), source()];
    await sut.hold(mine, 'instance-a', 30_000);
    await sut.hold(theirs, 'instance-c', 30_000);

    await sut.releaseAll('instance-a');

    expect(await sut.hold(mine, 'instance-b', 30_000)).toBe(true);
    expect(await sut.hold(theirs, 'instance-b', 30_000)).toBe(false);
  });
});
