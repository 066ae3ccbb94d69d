import type { LogLevel } from '@nestjs/common';
import type { ConfigReader } from '../config/config-reader.js';

/** What `LOG_LEVEL` accepts, most severe first; `info` is another name for `log`. */
export const LOG_LEVEL_NAMES = ['error', 'warn', 'log', 'info', 'debug', 'verbose'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;

export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** How an app writes its log, read once at start with the rest of its configuration. */
export interface LogSettings {
  /** The least severe level written. */
  readonly level: LogLevelName;
  readonly format: LogFormat;
  /** `NO_COLOR` is set (https://no-color.org): no colour even on a terminal. */
  readonly noColor: boolean;
}

const THRESHOLDS: Record<LogLevelName, readonly LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  verbose: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** The Nest levels a `LOG_LEVEL` lets through: that level and every more severe one. */
export function levelsFrom(level: LogLevelName): LogLevel[] {
  return [...THRESHOLDS[level]];
}

/** `LOG_LEVEL` (default `log`), `LOG_FORMAT` (`text` or `json`, default `text`) and `NO_COLOR`. */
export function readLogSettings(read: ConfigReader): LogSettings {
  return {
    level: read.oneOf('LOG_LEVEL', 'log', LOG_LEVEL_NAMES),
    format: read.oneOf('LOG_FORMAT', 'text', LOG_FORMATS),
    noColor: read.flag('NO_COLOR'),
  };
}
