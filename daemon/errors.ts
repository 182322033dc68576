// Errors a person at a terminal must be able to act on: one line, naming the field at fault.
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
  }
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}
