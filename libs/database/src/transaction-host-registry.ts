import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';

/** Hosts of the applications alive in this process, most recently started last. */
const liveHosts: TransactionHost[] = [];

/**
 * The transaction host `@Transactional()` should use. `TransactionHost.getInstance()` returns
 * whichever app was created last, even after that app has been closed, so a process that
 * opens a second app (a migration runner, a test booting another instance) and closes it
 * again would leave the first app's transactions pointing at a destroyed pool. Tracking the
 * live hosts here keeps the decorator on a connection that is still open.
 */
export function currentTransactionHost(): TransactionHost {
  return liveHosts.at(-1) ?? TransactionHost.getInstance();
}

@Injectable()
export class TransactionHostRegistration implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly host: TransactionHost) {}

  onModuleInit(): void {
    liveHosts.push(this.host);
  }

  onApplicationShutdown(): void {
    const index = liveHosts.lastIndexOf(this.host);
    if (index >= 0) liveHosts.splice(index, 1);
  }
}
