export { CloseCode } from './close-codes.js';
export {
  BEARER_SUBPROTOCOL_PREFIX,
  CLIENT_ID_SUBPROTOCOL_PREFIX,
  CONSUMER_PATH,
  CONSUMER_SUBPROTOCOL,
  EPOCH_SUBPROTOCOL_PREFIX,
  SINCE_SUBPROTOCOL_PREFIX,
  consumerSockets,
  selectSubprotocol,
} from './consumer-endpoint.js';
export { ConsumerErrorCode } from './error-codes.js';
export {
  entityFrame,
  entityFrameAround,
  errorFrame,
  messageFrame,
  welcomeFrame,
  type EntityFrame,
  type ErrorFrame,
  type MessageFrame,
  type ServerFrame,
  type WelcomeFrame,
  type WelcomePosition,
} from './frames.js';
