import { type ArgumentsHost, BadRequestException, UnauthorizedException } from '@nestjs/common';
import type { Alert, AlertService } from '@app/alerting';
import { AddressList, ManualClock } from '@app/platform';
import { ClientAlreadyExistsError, ClientNotFoundError, GroupNotGrantedError, InvalidClientCredentialsError } from '@app/token-store';
import { API_ERROR_STATUSES } from '../api-error-statuses.js';
import { TooManyRegistrationsError } from '../consumers/too-many-registrations.error.js';
import { InvalidEntityError, PublisherBusyError } from '../publishing/entity-publisher.service.js';
import type { ExperienceConfig } from '../config/experience.config.js';
import { RecentRefusals } from '../metrics/recent-refusals.js';
import { ApiErrorFilter } from './api-error.filter.js';

/** What the caller receives: status, headers and body. */
interface Answer {
  status?: number;
  headers: Record<string, string>;
  body?: unknown;
}

function answerTo(sut: ApiErrorFilter, exception: unknown): Answer {
  const answer: Answer = { headers: {} };
  const response = {
    headersSent: false,
    setHeader: (name: string, value: string) => (answer.headers[name] = value),
    status: (status: number) => {
      answer.status = status;
      return { json: (body: unknown) => (answer.body = body) };
    },
  };
  const host = {
    switchToHttp: () => ({
      getResponse: () => response,
      getRequest: () => ({ method: 'POST', path: '/entity', socket: { remoteAddress: '::ffff:10.1.2.3' }, headers: {} }),
    }),
  };
  sut.catch(exception, host as unknown as ArgumentsHost);
  return answer;
}

describe(ApiErrorFilter.name, () => {
  let alerts: Alert[];
  let refusals: RecentRefusals;
  let sut: ApiErrorFilter;

  beforeEach(() => {
    alerts = [];
    refusals = new RecentRefusals(new ManualClock());
    const config = { trustProxy: AddressList.parse('') } as ExperienceConfig;
    sut = new ApiErrorFilter({ raise: (alert: Alert) => alerts.push(alert) } as unknown as AlertService, API_ERROR_STATUSES, refusals, config);
  });

  it('notes a refusal for the operator console, folding repeats, but not a malformed body', () => {
    answerTo(sut, new UnauthorizedException('a valid admin token is required'));
    answerTo(sut, new UnauthorizedException('a valid admin token is required'));
    answerTo(sut, new BadRequestException('body is not JSON'));
    expect(refusals.list()).toEqual([
      expect.objectContaining({
        place: 'http',
        route: 'POST /entity',
        status: 401,
        code: 'unauthorized',
        remote_address: '10.1.2.3',
        client_id: null,
        count: 2,
      }),
    ]);
  });

  it.each([
    [new InvalidClientCredentialsError(), 401, 'unauthorized'],
    [new GroupNotGrantedError('acme', 'tenant-b/orders'), 403, 'forbidden'],
    [new ClientNotFoundError('acme'), 404, 'not_found'],
    [new ClientAlreadyExistsError('acme'), 409, 'conflict'],
    [new InvalidEntityError('groups must be a list of group names'), 400, 'bad_request'],
    [new TooManyRegistrationsError(7), 429, 'too_many_requests'],
    [new PublisherBusyError(), 503, 'service_unavailable'],
  ])('answers %p with %i and its own message, and alerts nobody', (error, status, code) => {
    expect(answerTo(sut, error)).toMatchObject({ status, body: { error: code, message: error.message } });
    expect(alerts).toEqual([]);
  });

  it('tells a rate-limited caller when to retry', () => {
    expect(answerTo(sut, new TooManyRegistrationsError(7)).headers).toEqual({ 'Retry-After': '7' });
  });

  it("keeps a Nest HTTP exception's status and joins its messages", () => {
    expect(answerTo(sut, new BadRequestException(['id must be a string', 'data is required']))).toMatchObject({
      status: 400,
      body: { error: 'bad_request', message: 'id must be a string; data is required' },
    });
  });

  it('answers an unexpected error 500 without its details, and alerts DevOps with where it happened', () => {
    const answer = answerTo(sut, new TypeError('selector.groups is not iterable'));

    expect(answer).toMatchObject({ status: 500, body: { error: 'internal_server_error', message: 'internal error' } });
    expect(alerts).toEqual([
      expect.objectContaining({ kind: 'internal_error', details: { where: 'POST /entity', error: 'TypeError: selector.groups is not iterable' } }),
    ]);
  });
});
