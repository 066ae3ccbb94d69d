import 'reflect-metadata';
import { IsOptional } from 'class-validator';

const OPTIONAL = Symbol('optional body fields');
const RAW = Symbol('raw JSON body fields');

function remember(key: symbol, target: object, property: string): void {
  const owner = target.constructor;
  const known: string[] = Reflect.getOwnMetadata(key, owner) ?? [];
  Reflect.defineMetadata(key, [...known, property], owner);
}

/**
 * An optional field: absent, or `null` (as Jackson, .NET and Go serialise an
 * absent optional), means "not given"; anything else is validated.
 */
export function OptionalField(): PropertyDecorator {
  return (target, property) => {
    IsOptional()(target, property);
    remember(OPTIONAL, target, String(property));
  };
}

/** A field whose value reaches the handler as a RawJson: the exact text sent, never re-serialised. */
export function RawJsonField(): PropertyDecorator {
  return (target, property) => remember(RAW, target, String(property));
}

export function optionalFieldsOf(type: object): readonly string[] {
  return Reflect.getOwnMetadata(OPTIONAL, type) ?? [];
}

export function rawJsonFieldsOf(type: object): readonly string[] {
  return Reflect.getOwnMetadata(RAW, type) ?? [];
}
