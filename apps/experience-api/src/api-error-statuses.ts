import { HttpStatus } from '@nestjs/common';
import { ClientAlreadyExistsError, ClientNotFoundError, GroupNotGrantedError, InvalidClientCredentialsError, TokenRejectedError } from '@app/token-store';
import { ClusterUnavailableError } from './cluster/cluster-unavailable.error.js';
import {
  OutboundSocketInUseError,
  OutboundSocketNotFoundError,
  OutboundSocketsStoppingError,
  TooManyOutboundSocketsError,
} from './outbound-sockets/outbound-socket.errors.js';
import { TooManyRegistrationsError } from './consumers/too-many-registrations.error.js';
import { EpochChangedError, HistoryExpiredError, TooManyReadsError } from './history/history.errors.js';
import type { ErrorStatusTable } from './http/api-error.filter.js';
import { InvalidEntityError, NotAttemptedError, PublisherBusyError } from './publishing/entity-publisher.service.js';

/** Every domain error an HTTP caller can meet, and its status: kept here, where the features meet, so that `http/` knows none of them. */
export const API_ERROR_STATUSES: ErrorStatusTable = [
  [InvalidClientCredentialsError, HttpStatus.UNAUTHORIZED],
  [TokenRejectedError, HttpStatus.UNAUTHORIZED],
  [GroupNotGrantedError, HttpStatus.FORBIDDEN],
  [ClientNotFoundError, HttpStatus.NOT_FOUND],
  [ClientAlreadyExistsError, HttpStatus.CONFLICT],
  [InvalidEntityError, HttpStatus.BAD_REQUEST],
  [TooManyRegistrationsError, HttpStatus.TOO_MANY_REQUESTS],
  [PublisherBusyError, HttpStatus.SERVICE_UNAVAILABLE],
  [NotAttemptedError, HttpStatus.SERVICE_UNAVAILABLE],
  [ClusterUnavailableError, HttpStatus.SERVICE_UNAVAILABLE],
  [OutboundSocketInUseError, HttpStatus.CONFLICT],
  [OutboundSocketNotFoundError, HttpStatus.NOT_FOUND],
  [TooManyOutboundSocketsError, HttpStatus.CONFLICT],
  [OutboundSocketsStoppingError, HttpStatus.SERVICE_UNAVAILABLE],
  [HistoryExpiredError, HttpStatus.GONE],
  [EpochChangedError, HttpStatus.CONFLICT],
  [TooManyReadsError, HttpStatus.TOO_MANY_REQUESTS],
];
