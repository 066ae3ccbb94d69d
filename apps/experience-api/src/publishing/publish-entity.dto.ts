import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsString, Length, Matches, ValidateBy } from 'class-validator';
import { GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField, RawJsonField } from '../http/body-fields.js';
import type { RawJson } from '../http/raw-json.js';

/** The body of `POST /entity`. `null` for `id` or `groups` means "not given". */
export class PublishEntityDto {
  /** Idempotency key; the server assigns one when it is absent. */
  @OptionalField()
  @IsString()
  @Length(1, 256)
  @Matches(/^[\x21-\x7e]+$/, { message: 'id must be printable ASCII without spaces' })
  id?: string;

  /** Without groups the entity goes to every consumer. */
  @OptionalField()
  @IsArray()
  @ArrayNotEmpty({ message: 'groups must not be empty; leave it out to publish to every consumer' })
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: `each of groups must match ${GROUP_PATTERN.source}` })
  groups?: string[];

  /** Any JSON value, `null` included, delivered exactly as it was sent. */
  @RawJsonField()
  @ValidateBy(
    {
      name: 'isPresent',
      validator: { validate: (_value, args) => args !== undefined && Object.hasOwn(args.object, args.property) },
    },
    { message: 'data is required (any JSON value)' },
  )
  data: RawJson;
}
