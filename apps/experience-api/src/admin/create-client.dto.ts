import { ArrayMaxSize, IsArray, IsOptional, IsString, Length, Matches } from 'class-validator';
import { CLIENT_ID_PATTERN, GROUP_PATTERN, MAX_GROUPS } from '@app/token-store';

/** The body of `POST /admin/clients`. */
export class CreateClientDto {
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: `client_id must match ${CLIENT_ID_PATTERN.source}` })
  client_id: string;

  /** Generated when absent; either way it is shown once and kept only as a hash. */
  @IsOptional()
  @IsString()
  @Length(12, 256, { message: 'client_secret must be 12 to 256 characters long' })
  client_secret?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GROUP_PATTERN, { each: true, message: `each of groups must match ${GROUP_PATTERN.source}` })
  groups?: string[];
}
