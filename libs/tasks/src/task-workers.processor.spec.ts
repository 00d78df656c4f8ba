import { Logger } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { DelayedError, type Job } from 'bullmq';
import { newTestService } from '../../../test/unit/new-test-service';
import { TaskRunner, type TaskJobData } from './task-runner';
import { DATABASE_RETRY_MS, TaskWorkers } from './task-workers.processor';
import { TasksRepository } from './tasks.repository';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

function job(): jest.Mocked<Job<TaskJobData>> {
  return {
    id: 'task-1',
    data: { taskId: 'task-1' },
    moveToDelayed: jest.fn().mockResolvedValue(undefined),
  } as unknown as jest.Mocked<Job<TaskJobData>>;
}

describe('TaskWorkers.process', () => {
  let workers: TaskWorkers;
  let runner: jest.Mocked<TaskRunner>;
  let tasks: jest.Mocked<TasksRepository>;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const built = await newTestService(TaskWorkers, [
      { provide: AppConfig, useValue: { get: () => 1_000 } },
    ]);
    workers = built.sut;
    runner = built.mock(TaskRunner);
    tasks = built.mock(TasksRepository);
  });

  afterEach(async () => {
    await workers.onApplicationShutdown();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('passes a run’s own failure on to BullMQ (which retries or fails the job)', async () => {
    const failure = new Error('SMTP refused');
    runner.run.mockRejectedValue(failure);
    const running = job();

    await expect(workers.process(running, 'token')).rejects.toBe(failure);
    expect(running.moveToDelayed).not.toHaveBeenCalled();
  });

  it('puts a job that failed because PostgreSQL is unreachable back, without using an attempt, and probes until it answers', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    runner.run.mockRejectedValue(new Error('query failed', { cause: refused() }));
    tasks.ping.mockRejectedValueOnce(refused()).mockResolvedValueOnce();
    const waiting = job();

    await expect(workers.process(waiting, 'token')).rejects.toBeInstanceOf(DelayedError);

    expect(waiting.moveToDelayed).toHaveBeenCalledWith(1_000_000 + DATABASE_RETRY_MS, 'token');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(tasks.ping).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(tasks.ping).toHaveBeenCalledTimes(2);
    expect(Logger.prototype.log).toHaveBeenCalledWith(
      expect.stringContaining('PostgreSQL answers again'),
    );
  });

  it('leaves no timer keeping the process alive once shut down with no job running', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout');
    const before = timers().length;

    await workers.onApplicationShutdown();

    // At most as many as before: a timer another spec left may expire meanwhile, none may be added.
    expect(timers().length).toBeLessThanOrEqual(before);
  });
});
