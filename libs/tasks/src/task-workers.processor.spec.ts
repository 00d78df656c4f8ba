import { Logger } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { DelayedError, type Job } from 'bullmq';
import { newTestService } from '../../../test/unit/new-test-service';
import { TaskRegistry } from './task-registry';
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
    moveToCompleted: jest.fn().mockResolvedValue(undefined),
    moveToFailed: jest.fn().mockResolvedValue(undefined),
    extendLock: jest.fn().mockResolvedValue(1),
  } as unknown as jest.Mocked<Job<TaskJobData>>;
}

/** A run whose handler has succeeded and whose outcome is being written until `commit()`. */
function recordingRun() {
  let commit!: () => void;
  let refuse!: (error: Error) => void;
  const written = new Promise<void>((resolve, reject) => {
    commit = resolve;
    refuse = reject;
  });
  const run = (_job: unknown, _shutdown: AbortSignal, onRecording?: () => void) => {
    onRecording?.();
    return written;
  };
  return { run, commit, refuse };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TaskWorkers.process', () => {
  let workers: TaskWorkers;
  let runner: jest.Mocked<TaskRunner>;
  let tasks: jest.Mocked<TasksRepository>;
  let registry: jest.Mocked<TaskRegistry>;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const built = await newTestService(TaskWorkers, [
      { provide: AppConfig, useValue: { get: () => 1_000 } },
    ]);
    workers = built.sut;
    runner = built.mock(TaskRunner);
    tasks = built.mock(TasksRepository);
    registry = built.mock(TaskRegistry);
  });

  afterEach(async () => {
    await workers.onApplicationShutdown();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  /** A job whose handler has succeeded and whose slot is free; its outcome commits on `commit()`. */
  const slotFreed = async () => {
    const outcome = recordingRun();
    runner.run.mockImplementation(outcome.run);
    const freed = job();
    await expect(workers.process(freed, 'token')).rejects.toBeInstanceOf(DelayedError);
    return { outcome, freed };
  };

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

  it('frees the slot once the handler is done, and completes the job only after its outcome is committed', async () => {
    const { outcome, freed: running } = await slotFreed();
    await settle();
    expect(running.moveToCompleted).not.toHaveBeenCalled();

    outcome.commit();
    await settle();
    expect(running.moveToCompleted).toHaveBeenCalledWith(undefined, 'token', false);
    expect(running.moveToFailed).not.toHaveBeenCalled();
  });

  it('keeps a run that ends without writing a success (skipped, failed) in its slot', async () => {
    runner.run.mockResolvedValue(undefined);
    const skipped = job();

    await expect(workers.process(skipped, 'token')).resolves.toBeUndefined();
    expect(skipped.moveToCompleted).not.toHaveBeenCalled();
  });

  it('fails the job through BullMQ (retry or final) when its outcome is refused', async () => {
    const { outcome, freed: refused } = await slotFreed();

    const failure = new Error('invalid input syntax for type json');
    outcome.refuse(failure);
    await settle();
    expect(refused.moveToFailed).toHaveBeenCalledWith(failure, 'token', false);
    expect(refused.moveToCompleted).not.toHaveBeenCalled();
  });

  it('puts the job back, without using an attempt, when its outcome could not be written before shutdown', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const outcome = recordingRun();
    runner.run.mockImplementation(outcome.run);
    tasks.ping.mockResolvedValue();
    const waiting = job();
    await expect(workers.process(waiting, 'token')).rejects.toBeInstanceOf(DelayedError);

    outcome.refuse(new Error('query failed', { cause: refused() }));
    await jest.advanceTimersByTimeAsync(0);
    expect(waiting.moveToDelayed).toHaveBeenCalledWith(1_000_000 + DATABASE_RETRY_MS, 'token');
    expect(waiting.moveToFailed).not.toHaveBeenCalled();
    expect(waiting.moveToCompleted).not.toHaveBeenCalled();
  });

  it('keeps the lock of a job whose outcome is being written', async () => {
    jest.useFakeTimers();
    registry.queueNames.mockReturnValue([]);
    workers.onApplicationBootstrap();
    const { outcome, freed: waiting } = await slotFreed();

    await jest.advanceTimersByTimeAsync(1_000);
    expect(waiting.extendLock).toHaveBeenCalledWith('token', 1_000);
    outcome.commit();
    await jest.advanceTimersByTimeAsync(0);
    waiting.extendLock.mockClear();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(waiting.extendLock).not.toHaveBeenCalled();
  });

  it('shuts down only once the jobs whose outcome is being written are completed', async () => {
    const { outcome, freed: waiting } = await slotFreed();

    let down = false;
    const shutdown = workers.onApplicationShutdown().then(() => (down = true));
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(down).toBe(false);

    outcome.commit();
    await shutdown;
    expect(waiting.moveToCompleted).toHaveBeenCalledWith(undefined, 'token', false);
  });
});
