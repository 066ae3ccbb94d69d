import { ArrayMaxSize, IsArray, Matches } from 'class-validator';
import { GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField } from '../http/body-fields.js';

/** The optional body of `POST /consumers`. */
export class RegisterConsumerDto {
  /** The groups the client's consumers join by default; each must be granted. */
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: `each of groups must match ${GROUP_PATTERN.source}` })
  groups?: string[];
}
