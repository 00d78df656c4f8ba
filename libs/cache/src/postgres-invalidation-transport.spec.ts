import type { PostgresListenerEvents, TypeOrmTransactionHost } from '@girder/database';
import type { InvalidationEvents } from './cache-backend';
import {
  CACHE_INVALIDATION_CHANNEL,
  PostgresInvalidationTransport,
} from './postgres-invalidation-transport';

/** The listener the transport makes, with its events, so a test can play PostgreSQL. */
const made: Array<{
  options: { channels: string[]; url: string };
  events: PostgresListenerEvents;
  listening: boolean;
  query: jest.Mock;
  start: jest.Mock;
  stop: jest.Mock;
}> = [];
jest.mock('@girder/database', () => ({
  PostgresListener: jest.fn((options, events) => {
    const listener = {
      options,
      events,
      listening: true,
      query: jest.fn(async () => undefined),
      start: jest.fn(),
      stop: jest.fn(async () => undefined),
    };
    made.push(listener);
    return listener;
  }),
}));

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('PostgresInvalidationTransport', () => {
  let txQuery: jest.Mock;
  let transport: PostgresInvalidationTransport;
  let events: jest.Mocked<InvalidationEvents>;

  beforeEach(() => {
    made.length = 0;
    txQuery = jest.fn(async () => []);
    transport = new PostgresInvalidationTransport('postgres://db/girder', {
      tx: { query: txQuery },
    } as unknown as TypeOrmTransactionHost);
    events = { message: jest.fn(), listening: jest.fn(), lost: jest.fn() };
    transport.open(events);
  });

  const listener = () => made[0];
  const pingChannel = () => listener().options.channels[1];

  it('listens on the invalidation channel and a ping channel of its own, on the primary', () => {
    expect(listener().options).toMatchObject({ url: 'postgres://db/girder' });
    expect(listener().options.channels[0]).toBe(CACHE_INVALIDATION_CHANNEL);
    expect(pingChannel()).toMatch(/^girder_cache_ping_[0-9a-f]{16}$/);
    expect(listener().start).toHaveBeenCalled();
  });

  it('publishes with pg_notify through the transaction host (in the caller’s transaction, if any)', async () => {
    await transport.publish('{"t":["users:1"],"k":[]}');
    expect(txQuery).toHaveBeenCalledWith('SELECT pg_notify($1, $2)', [
      CACHE_INVALIDATION_CHANNEL,
      '{"t":["users:1"],"k":[]}',
    ]);
  });

  it('hands invalidations to the cache, and passes on listening and lost', () => {
    listener().events.notification(CACHE_INVALIDATION_CHANNEL, 'text');
    expect(events.message).toHaveBeenCalledWith('text');
    listener().events.listening();
    expect(events.listening).toHaveBeenCalled();
    const error = new Error('terminated');
    listener().events.lost(error);
    expect(events.lost).toHaveBeenCalledWith(error);
  });

  it('a ping resolves only when its own notification comes back (after every earlier one)', async () => {
    let resolved = false;
    const ping = transport.ping().then(() => (resolved = true));
    await flush();
    const [sql, [channel, id]] = listener().query.mock.calls[0] as [string, [string, string]];
    expect(sql).toBe('SELECT pg_notify($1, $2)');
    expect(channel).toBe(pingChannel());
    expect(resolved).toBe(false); // the query answered, the notification has not arrived
    listener().events.notification(pingChannel(), 'another-id');
    await flush();
    expect(resolved).toBe(false);
    listener().events.notification(pingChannel(), id);
    await ping;
    expect(resolved).toBe(true);
    expect(events.message).not.toHaveBeenCalled();
  });

  it('a ping fails when the connection drops before it came back, or when not listening', async () => {
    const ping = transport.ping();
    await flush();
    listener().events.lost(new Error('connection reset'));
    await expect(ping).rejects.toThrow('connection reset');
    listener().listening = false;
    await expect(transport.ping()).rejects.toThrow('not listening');
  });

  it('close stops the listener', async () => {
    await transport.close();
    expect(listener().stop).toHaveBeenCalled();
  });
});
