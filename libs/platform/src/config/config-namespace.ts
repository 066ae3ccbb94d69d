import type { DynamicModule } from '@nestjs/common';
import { type ConfigFactory, ConfigModule, type ConfigObject, getConfigToken, registerAs } from '@nestjs/config';
import type { ConfigReader } from './config-reader.js';

/**
 * A typed configuration namespace: called with the start's one ConfigReader it reads its fields;
 * modules inject its validated value as `@Inject(ns.KEY) config: ConfigType<typeof ns>`.
 */
export type ConfigNamespace<T extends ConfigObject> = ((read: ConfigReader) => T) & { readonly KEY: string; readonly token: string };

export function configNamespace<T extends ConfigObject>(token: string, read: (read: ConfigReader) => T): ConfigNamespace<T> {
  return Object.assign((reader: ConfigReader) => read(reader), { KEY: getConfigToken(token), token });
}

/** A namespace with the value validated at start, for {@link configModule}. */
export function loadedNamespace<T extends ConfigObject>(namespace: ConfigNamespace<T>, value: T): ConfigFactory<T> {
  return registerAs(namespace.token, () => value);
}

/**
 * `ConfigModule.forRoot` for one app, global, holding each namespace under its KEY. The app
 * validated its environment record before (every problem at once, tests start several apps in one
 * process), so the module reads neither `.env` nor `process.env` itself.
 */
export function configModule(...namespaces: ConfigFactory[]): Promise<DynamicModule> {
  return ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, validatePredefined: false, skipProcessEnv: true, load: namespaces });
}
