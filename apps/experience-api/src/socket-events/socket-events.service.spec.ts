import { EventEmitter2 } from '@nestjs/event-emitter';
import { SocketEvent, type EntityPublishedEvent } from './socket-events.js';
import { SocketEvents } from './socket-events.service.js';

const PUBLISHED: EntityPublishedEvent = { id: 'order-1', seq: 7, groups: ['eu'] };
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(SocketEvents.name, () => {
  let emitter: EventEmitter2;
  let sut: SocketEvents;

  beforeEach(() => {
    emitter = new EventEmitter2();
    sut = new SocketEvents(emitter);
  });

  it('hands the payload to every listener of the event, at once, and to listeners of any event with its name', () => {
    const heard: unknown[] = [];
    emitter.once(SocketEvent.ENTITY_PUBLISHED, (event: EntityPublishedEvent) => heard.push(['once', event]));
    emitter.on(SocketEvent.ENTITY_PUBLISHED, (event: EntityPublishedEvent) => heard.push(['on', event]));
    emitter.onAny((name, event) => heard.push(['any', name, event]));
    emitter.on(SocketEvent.CLOSED, () => heard.push(['closed']));

    sut.emit(SocketEvent.ENTITY_PUBLISHED, PUBLISHED);
    sut.emit(SocketEvent.ENTITY_PUBLISHED, PUBLISHED);

    expect(heard).toEqual([
      ['any', 'entity.published', PUBLISHED],
      ['once', PUBLISHED],
      ['on', PUBLISHED],
      ['any', 'entity.published', PUBLISHED],
      ['on', PUBLISHED],
    ]);
  });

  it('never throws, whatever a listener does, and calls the listeners after one that failed', async () => {
    const heard: string[] = [];
    emitter.on(SocketEvent.ENTITY_PUBLISHED, () => {
      throw new Error('listener bug');
    });
    emitter.on(SocketEvent.ENTITY_PUBLISHED, async () => {
      throw new Error('async listener bug');
    });
    emitter.on(SocketEvent.ENTITY_PUBLISHED, () => heard.push('third'));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    try {
      expect(() => sut.emit(SocketEvent.ENTITY_PUBLISHED, PUBLISHED)).not.toThrow();
      await settle();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }

    expect(heard).toEqual(['third']);
    expect(unhandled).toEqual([]);
  });

  it('emits with nobody listening', () => {
    expect(() =>
      sut.emit(SocketEvent.CONNECTED, {
        socketId: 's',
        type: 'inbound',
        path: '/ws/publish',
        clientId: 'c',
        remoteAddress: '::1',
        groups: [],
        connectedAt: '',
      }),
    ).not.toThrow();
  });
});
