import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsString, Length, Matches, ValidateBy } from 'class-validator';
import { GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField, RawJsonField } from '../http/body-fields.js';
import type { RawJson } from '../http/raw-json.js';
import { anyJson } from '../http/api-docs.js';

/** The body of `POST /entity`. `null` for `id` or `groups` means "not given". */
export class PublishEntityDto {
  /** Idempotency key; the server assigns one when it is absent. */
  @ApiPropertyOptional({
    description:
      'The idempotency key: 1 to 256 printable ASCII characters without spaces. Absent or `null`: the server assigns a random UUID (and a retry is then a new entity).',
    minLength: 1,
    maxLength: 256,
    pattern: '^[\\x21-\\x7e]+$',
    nullable: true,
    example: 'order-1042',
  })
  @OptionalField()
  @IsString()
  @Length(1, 256)
  @Matches(/^[\x21-\x7e]+$/, { message: 'id must be printable ASCII without spaces' })
  id?: string;

  /** Without groups the entity goes to every consumer. */
  @ApiPropertyOptional({
    description: 'The entity goes to consumers in any of these groups. Absent or `null`: every consumer. `[]` is a `400`.',
    type: [String],
    minItems: 1,
    maxItems: MAX_GROUPS,
    items: { type: 'string', pattern: GROUP_PATTERN.source },
    nullable: true,
    example: ['orders'],
  })
  @OptionalField()
  @IsArray()
  @ArrayNotEmpty({ message: 'groups must not be empty; leave it out to publish to every consumer' })
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: `each of groups must match ${GROUP_PATTERN.source}` })
  groups?: string[];

  /** Any JSON value, `null` included, delivered exactly as it was sent. */
  @ApiProperty(
    anyJson(
      'Required: any JSON value, `null` included. Passed on as the exact text it was sent as (never parsed and printed again), so big integers, `1.50` and keys such as `__proto__` reach consumers unchanged.',
    ),
  )
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
