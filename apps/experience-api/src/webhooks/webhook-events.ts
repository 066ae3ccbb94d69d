import type { WebhookEventName } from '../config/experience.config.js';
import {
  type EntityPublishedEvent,
  type SocketClosedEvent,
  type SocketConnectedEvent,
  SocketEvent,
  type SocketEventName,
  type SocketEventPayloads,
  type SocketMessageEvent,
  type SocketRef,
} from '../socket-events/socket-events.js';

/** A webhook's `data`: plain JSON, snake_case as the rest of the API. */
export type WebhookData = Readonly<Record<string, unknown>>;

/** Which trigger each webhook event is, and its `data` (docs/webhooks.md). */
export const WEBHOOK_TRIGGERS: { readonly [E in WebhookEventName]: WebhookTrigger<SocketEventName> } = {
  connected: trigger(SocketEvent.CONNECTED, (e: SocketConnectedEvent) => ({ ...socket(e), groups: [...e.groups], connected_at: e.connectedAt })),
  disconnected: trigger(SocketEvent.CLOSED, (e: SocketClosedEvent) => ({ ...socket(e), code: e.code, reason: e.reason })),
  message: trigger(SocketEvent.INBOUND_MESSAGE, message),
  outbound_message: trigger(SocketEvent.OUTBOUND_MESSAGE, message),
  entity_published: trigger(SocketEvent.ENTITY_PUBLISHED, (e: EntityPublishedEvent) => ({ id: e.id, seq: e.seq, groups: e.groups ? [...e.groups] : null })),
};

export interface WebhookTrigger<N extends SocketEventName> {
  readonly trigger: N;
  readonly data: (payload: SocketEventPayloads[N]) => WebhookData;
}

function trigger<N extends SocketEventName>(name: N, data: (payload: SocketEventPayloads[N]) => WebhookData): WebhookTrigger<SocketEventName> {
  return { trigger: name, data } as unknown as WebhookTrigger<SocketEventName>;
}

function socket(e: SocketRef): WebhookData {
  return { socket_id: e.socketId, type: e.type, path: e.path, client_id: e.clientId, remote_address: e.remoteAddress };
}

/** Text frames as text; binary frames in base64, flagged. */
function message(e: SocketMessageEvent): WebhookData {
  const data = typeof e.data === 'string' ? e.data : e.binary ? e.data.toString('base64') : e.data.toString('utf8');
  return { ...socket(e), binary: e.binary, data };
}
