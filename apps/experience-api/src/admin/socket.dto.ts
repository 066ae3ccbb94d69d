import { IsIn, IsString, Matches } from 'class-validator';
import { OptionalField } from '../http/body-fields.js';

/** Close codes an operator may close a socket with (RFC 6455, 7.4): the standard ones that fit, and the application range. */
export const OPERATOR_CLOSE_CODES: readonly number[] = [1000, 1001, 1008, 1011, 1012, 1013, ...Array.from({ length: 2000 }, (_, i) => 3000 + i)];

/** The optional body of `DELETE /admin/sockets/:socket_id`. */
export class CloseSocketDto {
  /** 1000 when absent. */
  @OptionalField()
  @IsIn(OPERATOR_CLOSE_CODES, { message: 'code must be 1000, 1001, 1008, 1011, 1012, 1013 or from 3000 to 4999' })
  code?: number;

  /** Printable ASCII, to fit the 123 bytes a close frame has room for; "closed by an operator" when absent. */
  @OptionalField()
  @IsString()
  @Matches(/^[\x20-\x7E]{0,120}$/, { message: 'reason must be at most 120 printable ASCII characters' })
  reason?: string;
}
