import { ArrayMaxSize, IsArray, IsString, Length, Matches } from 'class-validator';
import { CLIENT_ID_PATTERN, GRANT_PATTERN, MAX_GROUPS } from '@app/token-store';
import { OptionalField } from '../http/body-fields.js';

const GRANTS_MESSAGE = `each of groups must be a group name or a prefix ending in *, matching ${GRANT_PATTERN.source}`;

/** The body of `POST /admin/clients`. */
export class CreateClientDto {
  @IsString()
  @Matches(CLIENT_ID_PATTERN, { message: `client_id must match ${CLIENT_ID_PATTERN.source}` })
  client_id: string;

  /** Generated when absent; either way it is shown once and kept only as a hash. */
  @OptionalField()
  @IsString()
  @Length(12, 256, { message: 'client_secret must be 12 to 256 characters long' })
  client_secret?: string;

  /** The client's grants: the only groups its consumers may be in. */
  @OptionalField()
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GRANT_PATTERN, { each: true, message: GRANTS_MESSAGE })
  groups?: string[];
}

/** The body of `PATCH /admin/clients/:client_id`. */
export class UpdateClientDto {
  /** Replaces the grants; narrowing them takes groups off the client's live socket at once. */
  @IsArray()
  @ArrayMaxSize(MAX_GROUPS)
  @Matches(GRANT_PATTERN, { each: true, message: GRANTS_MESSAGE })
  groups: string[];
}

/** The optional body of `POST /admin/clients/:client_id/secret`. */
export class RotateSecretDto {
  /** Generated when absent. */
  @OptionalField()
  @IsString()
  @Length(12, 256, { message: 'client_secret must be 12 to 256 characters long' })
  client_secret?: string;
}

/** The query of `GET /admin/clients`. */
export class ListClientsQuery {
  /** Page size, 1 to 500; 100 when absent. */
  @OptionalField()
  @Matches(/^(?:[1-9]\d?|[1-4]\d\d|500)$/, { message: 'limit must be a whole number from 1 to 500' })
  limit?: string;

  /** The `next` of the previous page. */
  @OptionalField()
  @Matches(CLIENT_ID_PATTERN, { message: `after must match ${CLIENT_ID_PATTERN.source}` })
  after?: string;
}
