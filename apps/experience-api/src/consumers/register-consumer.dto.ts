import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, Matches } from 'class-validator';
import { GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField } from '../http/body-fields.js';

/** The optional body of `POST /consumers`. */
export class RegisterConsumerDto {
  /** The groups the client's consumers join by default; each must be granted. */
  @ApiPropertyOptional({
    description:
      'The groups the client’s consumers join by default, in place of its plain grants: group names (no `*` prefixes), each granted to the client. Stored: holds for later registrations that do not send `groups`. `[]` chooses no groups; absent or `null` leaves the earlier choice as it is. Repeats are dropped.',
    type: [String],
    maxItems: MAX_GROUPS,
    items: { type: 'string', pattern: GROUP_PATTERN.source },
    nullable: true,
    example: ['orders'],
  })
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: `each of groups must match ${GROUP_PATTERN.source}` })
  groups?: string[];
}
