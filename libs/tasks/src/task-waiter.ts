import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { QueueEvents } from 'bullmq';
import { QueueBackend } from './queue-backend';
import { FINISHED_STATUSES, type Task } from './task.entity';
import type { TaskQueueName } from './task-queues';
import { TasksRepository } from './tasks.repository';

/** How often a waiting request re-reads the task, in case a queue event was dropped. */
const RECHECK_MS = 500;

/**
 * Holds `GET /tasks/:id?waitMs=` until the task finishes or time is up, without busy polling:
 * it listens to the queue's events, re-reads the task when one concerns it, and also re-reads
 * every RECHECK_MS because an event can be missed: BullMQ trims its Redis event stream under
 * load, and its PostgreSQL backend drops some events outright (about one in ten, measured).
 */
@Injectable()
export class TaskWaiter implements OnApplicationShutdown {
  private readonly events = new Map<TaskQueueName, QueueEvents>();

  constructor(
    private readonly tasks: TasksRepository,
    private readonly backend: QueueBackend,
  ) {}

  async waitForFinish(task: Task, waitMs: number): Promise<Task> {
    if (waitMs <= 0 || FINISHED_STATUSES.includes(task.status)) return task;
    // Not awaiting the connection: with the queues' store slow or down the re-reads and the
    // deadline still answer.
    const events = this.eventsFor(task.queue);

    return new Promise<Task>((resolve) => {
      let latest = task;
      let settled = false;
      let checking = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        events.off('completed', onEvent);
        events.off('failed', onEvent);
        clearInterval(interval);
        clearTimeout(deadline);
        resolve(latest);
      };
      const check = async () => {
        if (settled || checking) return;
        checking = true;
        try {
          latest = (await this.tasks.findById(task.id)) ?? latest;
          if (FINISHED_STATUSES.includes(latest.status)) finish();
        } catch {
          // The next check or the deadline answers.
        } finally {
          checking = false;
        }
      };
      const onEvent = ({ jobId }: { jobId: string }) => {
        if (jobId === task.id) void check();
      };
      events.on('completed', onEvent);
      events.on('failed', onEvent);
      const interval = setInterval(() => void check(), RECHECK_MS);
      const deadline = setTimeout(finish, waitMs);
      // Subscribed first, then re-read: a task finishing in between is not missed.
      void check();
    });
  }

  private eventsFor(queue: TaskQueueName): QueueEvents {
    let events = this.events.get(queue);
    if (!events) {
      events = this.backend.createQueueEvents(queue);
      events.on('error', () => undefined); // reconnects by itself; waits fall back to re-reading
      this.events.set(queue, events);
    }
    return events;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.events.values()].map((events) => events.close()));
  }
}
