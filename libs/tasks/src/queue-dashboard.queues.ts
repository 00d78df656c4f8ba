import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { InjectBullBoard, type BullBoardInstance } from '@bull-board/nestjs';
import { TaskQueues } from './task-queues.service';
import { TaskRegistry } from './task-registry';

/**
 * Shows every queue on the dashboard: Girder's and those features declare in `@TaskType`,
 * which are only known once the task types have been discovered.
 */
@Injectable()
export class QueueDashboardQueues implements OnApplicationBootstrap {
  constructor(
    @InjectBullBoard() private readonly board: BullBoardInstance,
    private readonly registry: TaskRegistry,
    private readonly queues: TaskQueues,
  ) {}

  onApplicationBootstrap(): void {
    this.board.replaceQueues(
      this.registry.queueNames().map((name) => new BullMQAdapter(this.queues.get(name))),
    );
  }
}
