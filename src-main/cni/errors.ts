// CNI errors: the plugin's own error object (spec section "Error"), and the executor's errors.

/** The spec's well-known error codes and what they mean (0-99 are reserved, 100+ are the plugin's). */
export const CNI_ERROR_CODES: Readonly<Record<number, string>> = {
  1: 'Incompatible CNI version',
  2: 'Unsupported field in network configuration',
  3: 'Container unknown or does not exist',
  4: 'Invalid necessary environment variables',
  5: 'I/O failure',
  6: 'Failed to decode content',
  7: 'Invalid network config',
  11: 'Try again later',
  50: 'The plugin is not available (it cannot serve ADD requests)',
  51: 'The plugin is not available, and existing containers in the network may have limited connectivity',
};

export function meaningOfCode(code: number): string {
  return CNI_ERROR_CODES[code] ?? (code >= 100 ? 'Plugin-specific error' : 'Reserved error code');
}

/** An error a plugin returned, verbatim: code, msg and details; its message is libcni's (types.Error): msg; details. */
export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly code: number,
    readonly msg: string,
    readonly details: string | undefined,
  ) {
    super(`${msg}${details ? `; ${details}` : ''}`);
    this.name = 'PluginError';
  }
}

/** The executor could not run a plugin or understand it (not found, timeout, garbage output). */
export class ExecError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly kind: 'not-found' | 'timeout' | 'bad-output' | 'start-failed',
    message: string,
  ) {
    super(message);
    this.name = 'ExecError';
  }
}

/** A configuration file or list that cannot be used, with where the problem is. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${file}${line ? `:${line}:${column ?? 1}` : ''}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** An operation the plugins or the config's version do not support (STATUS/GC before 1.1.0). */
export class NotSupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotSupportedError';
  }
}

/** An argument the runtime passed is invalid (container ID, network name, interface name). */
export class InvalidArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}
