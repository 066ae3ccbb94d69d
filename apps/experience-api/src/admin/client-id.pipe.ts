import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { CLIENT_ID_PATTERN } from '@app/token-store';

/** A `:client_id` route parameter, checked before any query: no client can have an id outside the pattern. */
@Injectable()
export class ClientIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!CLIENT_ID_PATTERN.test(value)) throw new BadRequestException(`client_id must match ${CLIENT_ID_PATTERN.source}`);
    return value;
  }
}
