/**
 * Thrown at start when the configuration is unusable: every problem at once, one a line, each
 * led by the variable or field it names (a problem of several lines, such as a YAML excerpt, stays indented under it).
 */
export class ConfigurationError extends Error {
  constructor(
    readonly problems: readonly string[],
    heading = 'invalid configuration',
  ) {
    super(`${heading}:\n${problems.map((p) => `  ${p.replaceAll('\n', '\n  ')}`).join('\n')}`);
    this.name = 'ConfigurationError';
  }
}
