import { AmqpSource } from './amqp/amqp.source.js';
import { DirectorySource } from './directory/directory.source.js';
import { HttpSource } from './http/http.source.js';
import { PostgresSource } from './postgres/postgres.source.js';
import type { Source } from './source.js';
import type { SourceDefinition } from './source-definition.js';
import { WebSocketSource } from './websocket/websocket.source.js';

/** The one place that knows every source type. */
export function createSource(definition: SourceDefinition, env: Readonly<Record<string, string | undefined>>): Source {
  switch (definition.type) {
    case 'http':
      return new HttpSource(definition, env);
    case 'directory':
      return new DirectorySource(definition);
    case 'postgres':
      return new PostgresSource(definition, env);
    case 'amqp':
      return new AmqpSource(definition, env);
    case 'websocket':
      return new WebSocketSource(definition, env);
  }
}
