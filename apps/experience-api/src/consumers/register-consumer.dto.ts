import { ArrayMaxSize, IsArray, IsOptional, Matches } from 'class-validator';
import { GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';

/** The optional body of `POST /consumers`. */
export class RegisterConsumerDto {
  /** Replaces the client's default groups. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: `each of groups must match ${GROUP_PATTERN.source}` })
  groups?: string[];
}
