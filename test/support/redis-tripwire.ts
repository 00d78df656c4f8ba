// Preloaded (`node -r`) into an app process that must not use Redis: reports on stderr every
// ioredis client created (Girder's only Redis client library) and every TCP connection to a
// Redis port (6379), so a test can assert that none happened. Nothing is blocked: the report is the evidence.
/* eslint-disable @typescript-eslint/no-explicit-any -- it patches Node internals */
import Module from 'node:module';
import net from 'node:net';

const report = (what: string): boolean => process.stderr.write(`REDIS-TRIPWIRE ${what}\n`);

const connect = net.Socket.prototype.connect;
(net.Socket.prototype as any).connect = function (this: net.Socket, ...args: any[]) {
  // net.connect() hands over its normalized arguments: [options, callback].
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : { port: first };
  if (Number(options.port) === 6379) report(`socket to port 6379 (${options.host ?? 'localhost'})`);
  return (connect as (...a: any[]) => net.Socket).apply(this, args);
};

const moduleInternals = Module as unknown as { _load: (...args: any[]) => any };
const load = moduleInternals._load;
moduleInternals._load = function (this: unknown, request: string, ...rest: any[]) {
  const loaded = load.call(this, request, ...rest);
  if (request === 'ioredis' && !loaded.__tripwire) {
    const Redis = loaded.default ?? loaded;
    const Wrapped: any = new Proxy(Redis, {
      construct(target, args, newTarget) {
        report('ioredis client created');
        return Reflect.construct(target, args, newTarget);
      },
      // `import Redis from 'ioredis'` reads `.default`: the wrapped class too.
      get(target, property, receiver) {
        if (property === 'default') return Wrapped;
        if (property === '__tripwire') return true;
        return Reflect.get(target, property, receiver);
      },
    });
    return Wrapped;
  }
  return loaded;
};
