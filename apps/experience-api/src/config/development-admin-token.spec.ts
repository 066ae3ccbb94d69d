import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepDevelopmentAdminToken } from './development-admin-token.js';
import { loadExperienceConfig } from './experience.config.js';

describe(keepDevelopmentAdminToken.name, () => {
  const sut = keepDevelopmentAdminToken;
  let root: string;
  let file: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'admin-token-'));
    file = join(root, 'data', 'admin-token');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes the token made up on the first development run, readable by its owner only', () => {
    const config = loadExperienceConfig({});

    const kept = sut(config, file);

    expect(kept.adminToken).toBe(config.adminToken);
    expect(readFileSync(file, 'utf8')).toBe(`${config.adminToken}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('uses the kept token on every later run', () => {
    const first = sut(loadExperienceConfig({}), file);

    const second = sut(loadExperienceConfig({}), file);

    expect(second.adminToken).toBe(first.adminToken);
    expect(second.adminTokenGenerated).toBe(true);
  });

  it('replaces a file too short to hold a token', () => {
    sut(loadExperienceConfig({}), file);
    writeFileSync(file, 'short\n');
    const config = loadExperienceConfig({});

    const kept = sut(config, file);

    expect(kept.adminToken).toBe(config.adminToken);
    expect(readFileSync(file, 'utf8')).toBe(`${config.adminToken}\n`);
  });

  it.each([
    ['production', { NODE_ENV: 'production' }],
    ['a given ADMIN_TOKEN', { ADMIN_TOKEN: 'given-admin-token-0123456789' }],
  ])('reads and writes nothing with %s', (_, env) => {
    const config = loadExperienceConfig(env);

    expect(sut(config, file)).toBe(config);
    expect(() => statSync(file)).toThrow(/ENOENT/);
  });
});
