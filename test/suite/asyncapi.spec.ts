import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import {
  BEARER_SUBPROTOCOL_PREFIX,
  CLIENT_ID_SUBPROTOCOL_PREFIX,
  CONSUMER_PATH,
  CONSUMER_SUBPROTOCOL,
  CloseCode,
  ConsumerErrorCode,
  EPOCH_SUBPROTOCOL_PREFIX,
  SINCE_SUBPROTOCOL_PREFIX,
  entityFrame,
  errorFrame,
  messageFrame,
  welcomeFrame,
  type WelcomeFrame,
  type WelcomePosition,
} from '../../apps/experience-api/src/protocol/index.js';

// docs/asyncapi.yaml describes the consumer WebSocket for tools; every example in it must be a frame the
// gateway's own code builds, and every code it lists one the code uses, so that it cannot drift.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Example {
  readonly name: string;
  readonly payload: Record<string, Json>;
}

interface MessageObject {
  readonly name: string;
  readonly payload: { readonly $ref: string };
  readonly examples: readonly Example[];
}

interface CloseCodeEntry {
  readonly name: string;
  readonly code: number;
  readonly reasons: readonly string[];
}

interface AsyncApiDocument {
  readonly asyncapi: string;
  readonly info: { readonly description: string; readonly 'x-close-codes': readonly CloseCodeEntry[] };
  readonly servers: Record<string, { readonly protocol: string }>;
  readonly channels: Record<
    string,
    {
      readonly address: string;
      readonly description: string;
      readonly messages: Record<string, { readonly $ref: string }>;
      readonly bindings: {
        readonly ws: {
          readonly method: string;
          readonly headers: { properties: Record<string, unknown> };
          readonly query: { properties: Record<string, unknown> };
        };
      };
      readonly 'x-subprotocols': ReadonlyArray<{ readonly name: string }>;
    }
  >;
  readonly operations: Record<string, { readonly action: string; readonly messages: ReadonlyArray<{ readonly $ref: string }> }>;
  readonly components: { readonly messages: Record<string, MessageObject>; readonly schemas: Record<string, Record<string, unknown>> };
}

const document = parse(readFileSync(fileURLToPath(new URL('../../docs/asyncapi.yaml', import.meta.url)), 'utf8')) as AsyncApiDocument;

/** What a `$ref` inside the document points to, through any `$ref` it finds there. */
function resolve<T>(ref: string): T {
  expect(ref.startsWith('#/')).toBe(true);
  const target = ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => {
      const next = (node as Record<string, unknown>)[key];
      if (next === undefined) throw new Error(`${ref} points nowhere`);
      return next;
    }, document) as { $ref?: unknown };
  return typeof target.$ref === 'string' ? resolve<T>(target.$ref) : (target as T);
}

const messages = document.components.messages;

/** The frame the code builds from an example's values, for each type of frame. */
const buildFrame: Record<string, (payload: Record<string, Json>) => string> = {
  welcome: (payload) => {
    const recovery: WelcomePosition['recovery'] =
      payload.recovered === true
        ? { recovered: true, missed: payload.missed as number }
        : payload.recovered === false
          ? { recovered: false, reason: payload.reason as NonNullable<WelcomeFrame['reason']> }
          : undefined;
    return welcomeFrame(payload.socket_id as string, payload.client_id as string, payload.groups as string[], {
      lastSeq: payload.last_seq as number,
      epoch: payload.epoch as string,
      ...(recovery ? { recovery } : {}),
    });
  },
  entity: (payload) =>
    entityFrame(
      payload.id as string,
      payload.seq as number,
      payload.groups as string[],
      JSON.stringify(payload.data),
      new Date(payload.published_at as string),
    ).toString('utf8'),
  message: (payload) => messageFrame(JSON.stringify(payload.data)).toString('utf8'),
  error: (payload) => errorFrame(payload.code as ConsumerErrorCode, payload.message as string),
};

describe('docs/asyncapi.yaml', () => {
  it('is an AsyncAPI 3 document of a WebSocket server', () => {
    expect(document.asyncapi).toMatch(/^3\.\d+\.\d+$/);
    expect(Object.values(document.servers).map((server) => server.protocol)).toEqual(['ws']);
  });

  it('describes the consumer path, the handshake the code reads and the inbound paths', () => {
    const channels = Object.values(document.channels);
    expect(channels.map((channel) => channel.address)).toEqual([CONSUMER_PATH]);
    const [channel] = channels;
    expect(channel.bindings.ws.method).toBe('GET');
    expect(Object.keys(channel.bindings.ws.headers.properties)).toEqual(
      expect.arrayContaining(['client_id', 'Authorization', 'groups', 'last_seq', 'epoch', 'Sec-WebSocket-Protocol']),
    );
    expect(Object.keys(channel.bindings.ws.query.properties).sort()).toEqual(['epoch', 'groups', 'since']);
    expect(channel['x-subprotocols'].map((subprotocol) => subprotocol.name)).toEqual([
      CONSUMER_SUBPROTOCOL,
      `${BEARER_SUBPROTOCOL_PREFIX}<token>`,
      `${CLIENT_ID_SUBPROTOCOL_PREFIX}<id>`,
      `${SINCE_SUBPROTOCOL_PREFIX}<seq>`,
      `${EPOCH_SUBPROTOCOL_PREFIX}<id>`,
    ]);
    expect(channel.description).toContain('INBOUND_PATHS');
  });

  it('describes the four frames the gateway sends, each sent by an operation', () => {
    expect(Object.keys(messages).sort()).toEqual(['entity', 'error', 'message', 'welcome']);
    const sent = Object.values(document.operations).flatMap((operation) => {
      expect(operation.action).toBe('send');
      return operation.messages.map((message) => resolve<MessageObject>(message.$ref).name);
    });
    expect(sent.sort()).toEqual(['entity', 'error', 'message', 'welcome']);
  });

  describe.each(Object.keys(buildFrame))('the %s frame', (type) => {
    const message = messages[type];
    const schema = resolve<Record<string, unknown>>(message.payload.$ref);
    const ajv = new Ajv({ allErrors: true, strict: true, formats: { 'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/ } });
    const validate = ajv.compile(schema);

    it('has examples', () => {
      expect(message.examples.length).toBeGreaterThan(0);
    });

    it.each(message.examples.map((example) => [example.name, example] as const))('example %s is the frame the code builds, byte for byte', (_, example) => {
      expect(example.payload.type).toBe(type);
      expect(buildFrame[type](example.payload)).toBe(JSON.stringify(example.payload));
    });

    it.each(message.examples.map((example) => [example.name, example] as const))('example %s matches the JSON Schema', (_, example) => {
      const valid = validate(example.payload);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });

    it('has a schema that refuses a frame of another type or without its required fields', () => {
      expect(validate({ ...message.examples[0].payload, type: 'other' })).toBe(false);
      for (const field of schema.required as string[]) {
        const { [field]: _left, ...without } = message.examples[0].payload;
        expect(validate(without)).toBe(false);
      }
    });
  });

  it('lists exactly the error codes of error-codes.ts', () => {
    const schema = resolve<{ properties: { code: { enum: string[] } } }>(messages.error.payload.$ref);
    expect([...schema.properties.code.enum].sort()).toEqual(Object.values(ConsumerErrorCode).sort());
    for (const code of Object.values(ConsumerErrorCode)) expect(JSON.stringify(schema)).toContain(`\`${code}\``);
  });

  it('lists exactly the close codes of close-codes.ts, and no other in its table', () => {
    const listed = document.info['x-close-codes'];
    expect(Object.fromEntries(listed.map((entry) => [entry.name, entry.code]))).toEqual(CloseCode);
    expect(listed).toHaveLength(Object.keys(CloseCode).length);

    const table = document.info.description.split('## Close codes')[1];
    const rows = table
      .split('\n')
      .map((line) => /^\| `(\d{4})` \|/.exec(line)?.[1])
      .filter((code) => code !== undefined)
      .map(Number);
    expect(rows.sort()).toEqual(Object.values(CloseCode).sort());
  });
});
