import { AppConfig } from '@girder/config';
import { UnrecoverableError, type Job } from 'bullmq';
import { AsyncLocalStorage } from 'node:async_hooks';
import { newTestService } from '../../../test/unit/new-test-service';
import { TaskMetrics } from './task-metrics';
import { TaskOutbox } from './task-outbox';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskRegistry, type RegisteredTaskType } from './task-registry';
import { TaskRunner, type TaskJobData } from './task-runner';
import { TaskStateWriter } from './task-state-writer';
import type { TaskContext } from './task-type';
import { TasksRepository } from './tasks.repository';

const TASK_ID = '0b6f7e2c-3c1d-4a53-9d2e-6f1a7b8c9d0e';
/** What node-postgres throws when PostgreSQL is unreachable. */
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** TASK_RUNNING_AFTER_MS in these specs. */
const RUNNING_AFTER_MS = 50;
/** The run of TASK_ID as the state writer receives it. */
const runOf = (attempt = 1) => ({ id: TASK_ID, attempt, startedAt: expect.any(Date) as Date });

class ExamplePayload {}

function handlerMock() {
  return {
    run: jest.fn<Promise<object>, [object, TaskContext]>(),
    file: jest.fn<{ path: string; contentType: string } | undefined, [object]>(),
    scheduledPayload: jest.fn<object, []>(),
  };
}

function registered(
  handler: ReturnType<typeof handlerMock>,
  timeoutMs = 60_000,
): RegisteredTaskType {
  return {
    options: {
      name: 'example.run',
      queue: 'reports',
      payload: ExamplePayload,
      permission: null,
      attempts: 3,
      backoffMs: 1_000,
      timeoutMs,
      secretPayload: false,
    },
    handler,
  };
}

function job(
  data: TaskJobData,
  { attemptsMade = 0, attempts = 3, id = TASK_ID } = {},
): Job<TaskJobData> {
  return {
    id,
    name: 'example.run',
    data,
    attemptsMade,
    opts: { attempts },
    updateProgress: jest.fn(),
  } as unknown as Job<TaskJobData>;
}

/** A handler that runs until its signal is aborted, as a well-behaved long task does. */
function untilAborted(context: TaskContext): Promise<object> {
  return new Promise((_, reject) =>
    context.signal.addEventListener('abort', () => reject(new Error('aborted'))),
  );
}

describe('TaskRunner.run', () => {
  let runner: TaskRunner;
  let registry: jest.Mocked<TaskRegistry>;
  let tasks: jest.Mocked<TasksRepository>;
  let state: jest.Mocked<TaskStateWriter>;
  let metrics: jest.Mocked<TaskMetrics>;
  let vault: jest.Mocked<TaskPayloadVault>;
  let outbox: jest.Mocked<TaskOutbox>;
  let handler: ReturnType<typeof handlerMock>;
  let shutdown: AbortController;

  beforeEach(async () => {
    const config = {
      get: (key: string) => (key === 'TASK_RUNNING_AFTER_MS' ? RUNNING_AFTER_MS : 0),
    };
    const service = await newTestService(TaskRunner, [{ provide: AppConfig, useValue: config }]);
    runner = service.sut;
    registry = service.mock(TaskRegistry);
    tasks = service.mock(TasksRepository);
    state = service.mock(TaskStateWriter);
    metrics = service.mock(TaskMetrics);
    vault = service.mock(TaskPayloadVault);
    outbox = service.mock(TaskOutbox);
    handler = handlerMock();
    registry.get.mockReturnValue(registered(handler));
    state.standing.mockResolvedValue('free');
    state.markRunning.mockResolvedValue(true);
    shutdown = new AbortController();
  });

  afterEach(() => jest.useRealTimers());

  describe('before the handler runs', () => {
    it('fails the task of an unknown type and throws UnrecoverableError', async () => {
      registry.get.mockReturnValue(undefined);

      const run = runner.run(job({ taskId: TASK_ID }), shutdown.signal);

      await expect(run).rejects.toThrow(UnrecoverableError);
      await expect(run).rejects.toThrow('This worker does not know the task type example.run');
      expect(tasks.failQueued).toHaveBeenCalledWith(
        TASK_ID,
        'This worker does not know the task type example.run',
      );
      expect(state.markRunning).not.toHaveBeenCalled();
    });

    it('rejects a job without a task id as unrecoverable', async () => {
      const run = runner.run(job({ payload: {} }), shutdown.signal);

      await expect(run).rejects.toThrow(UnrecoverableError);
      await expect(run).rejects.toThrow('Job without a task id');
      expect(state.markRunning).not.toHaveBeenCalled();
    });

    it('skips a cancelled or finished task without calling the handler', async () => {
      state.standing.mockResolvedValue('ended');

      await runner.run(job({ taskId: TASK_ID }, { attemptsMade: 1 }), shutdown.signal);

      expect(state.standing).toHaveBeenCalledWith(TASK_ID);
      expect(state.markRunning).not.toHaveBeenCalled();
      expect(handler.run).not.toHaveBeenCalled();
      expect(state.markSucceeded).not.toHaveBeenCalled();
      expect(state.markFailed).not.toHaveBeenCalled();
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'skipped');
      // A cancelled secret-payload task leaves no input file behind.
      expect(vault.remove).toHaveBeenCalledWith(TASK_ID);
    });
  });

  describe('the running state', () => {
    it('writes none for a quick run: its outcome takes the task from queued to its end', async () => {
      handler.run.mockImplementation(async () => {
        expect(runner.runningTaskIds()).toEqual([]);
        return { ok: true };
      });

      await runner.run(job({ taskId: TASK_ID }), shutdown.signal);

      expect(state.markRunning).not.toHaveBeenCalled();
      expect(state.markSucceeded).toHaveBeenCalledWith(runOf(), { ok: true }, undefined);
    });

    it('claims a run still going after TASK_RUNNING_AFTER_MS, before its outcome', async () => {
      jest.useFakeTimers();
      let finish!: (result: object) => void;
      handler.run.mockImplementation(() => new Promise((resolve) => (finish = resolve)));
      const order: string[] = [];
      state.markRunning.mockImplementation(async () => !!order.push('running'));
      state.markSucceeded.mockImplementation(async () => void order.push('succeeded'));

      const run = runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      await jest.advanceTimersByTimeAsync(RUNNING_AFTER_MS - 1);
      expect(state.markRunning).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      expect(state.markRunning).toHaveBeenCalledWith(runOf());
      expect(runner.runningTaskIds()).toEqual([TASK_ID]);
      finish({});
      await run;

      expect(order).toEqual(['running', 'succeeded']);
      expect(runner.runningTaskIds()).toEqual([]);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('lets an outcome wait for a claim in flight, so the claim never lands after it', async () => {
      jest.useFakeTimers();
      let claimed!: (claimed: boolean) => void;
      state.markRunning.mockImplementation(() => new Promise((resolve) => (claimed = resolve)));
      handler.run.mockImplementation(
        () => new Promise((resolve) => setTimeout(() => resolve({}), RUNNING_AFTER_MS + 1)),
      );

      const run = runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      await jest.advanceTimersByTimeAsync(RUNNING_AFTER_MS + 1);
      expect(state.markSucceeded).not.toHaveBeenCalled();
      claimed(true);
      await run;

      expect(state.markSucceeded).toHaveBeenCalledTimes(1);
    });

    it('claims once, before the first progress report or checkpoint, outside the handler’s context', async () => {
      const handlerTransaction = new AsyncLocalStorage<string>();
      const order: string[] = [];
      let claimedIn: string | undefined = 'not claimed';
      state.markRunning.mockImplementation(async () => {
        claimedIn = handlerTransaction.getStore();
        return !!order.push('running');
      });
      tasks.setProgress.mockImplementation(async () => void order.push('progress'));
      tasks.saveCheckpoint.mockImplementation(async () => void order.push('checkpoint'));
      handler.run.mockImplementation((_payload, context) =>
        handlerTransaction.run('the handler’s transaction', async () => {
          await context.reportProgress(10);
          await context.saveCheckpoint({ line: 5 }, 20);
          return {};
        }),
      );

      await runner.run(job({ taskId: TASK_ID }), shutdown.signal);

      expect(order).toEqual(['running', 'progress', 'checkpoint']);
      expect(claimedIn).toBeUndefined();
    });

    it('claims before running when a transaction holds the task row (a cancel perhaps)', async () => {
      state.standing.mockResolvedValue('contended');
      const order: string[] = [];
      state.markRunning.mockImplementation(async () => !!order.push('running'));
      handler.run.mockImplementation(async () => (order.push('handler'), {}));

      await runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      expect(order).toEqual(['running', 'handler']);

      // That transaction was a cancel: the claim is refused and the run skipped.
      state.markRunning.mockResolvedValue(false);
      handler.run.mockClear();
      await runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      expect(handler.run).not.toHaveBeenCalled();
      expect(metrics.countRun).toHaveBeenLastCalledWith('reports', 'example.run', 'skipped');
    });

    it('stops a run whose task ended elsewhere meanwhile (claim refused): no outcome, no retry', async () => {
      jest.useFakeTimers();
      state.markRunning.mockResolvedValue(false);
      let signal: AbortSignal | undefined;
      handler.run.mockImplementation((_payload, context) => {
        signal = context.signal;
        return untilAborted(context);
      });

      const run = runner.run(job({ taskId: TASK_ID, payloadRef: { file: 'x' } }), shutdown.signal);
      vault.load.mockResolvedValue({});
      await jest.advanceTimersByTimeAsync(RUNNING_AFTER_MS);
      await run;

      expect(signal?.aborted).toBe(true);
      expect(state.markSucceeded).not.toHaveBeenCalled();
      expect(state.markFailed).not.toHaveBeenCalled();
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'skipped');
      expect(vault.remove).toHaveBeenCalledWith(TASK_ID);
    });
  });

  describe('outcome', () => {
    it('marks the task succeeded with the result and the file of the handler', async () => {
      const result = { rows: 3 };
      const file = { path: 'exports/users.csv', contentType: 'text/csv' };
      handler.run.mockResolvedValue(result);
      handler.file.mockReturnValue(file);

      await runner.run(job({ taskId: TASK_ID, payload: { from: 'x' } }), shutdown.signal);

      expect(state.markRunning).not.toHaveBeenCalled(); // quick: queued → succeeded in one write
      expect(handler.run).toHaveBeenCalledWith(
        { from: 'x' },
        expect.objectContaining({ taskId: TASK_ID, attempt: 1 }),
      );
      expect(handler.file).toHaveBeenCalledWith(result);
      expect(state.markSucceeded).toHaveBeenCalledWith(runOf(), result, file);
      expect(state.markFailed).not.toHaveBeenCalled();
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'succeeded');
      expect(vault.remove).not.toHaveBeenCalled();
    });

    it('says when only the outcome of a succeeded handler is left to write, and only then', async () => {
      const order: string[] = [];
      handler.run.mockImplementation(async () => {
        order.push('handler');
        return {};
      });
      state.markSucceeded.mockImplementation(async () => void order.push('outcome written'));

      await runner.run(job({ taskId: TASK_ID, payload: {} }), shutdown.signal, () =>
        order.push('recording'),
      );
      expect(order).toEqual(['handler', 'recording', 'outcome written']);

      const onRecording = jest.fn();
      handler.run.mockRejectedValue(new Error('boom'));
      await expect(
        runner.run(job({ taskId: TASK_ID, payload: {} }), shutdown.signal, onRecording),
      ).rejects.toThrow('boom');
      state.standing.mockResolvedValue('ended');
      await runner.run(job({ taskId: TASK_ID, payload: {} }), shutdown.signal, onRecording);
      expect(onRecording).not.toHaveBeenCalled();
    });

    it('reports progress to the task record and the job', async () => {
      const runJob = job({ taskId: TASK_ID, payload: {} });
      handler.run.mockImplementation(async (_payload, context) => {
        await context.reportProgress(42.4);
        return {};
      });

      await runner.run(runJob, shutdown.signal);

      expect(tasks.setProgress).toHaveBeenCalledWith(TASK_ID, 42.4);
      expect(runJob.updateProgress).toHaveBeenCalledWith(42);
    });

    it('re-queues the task (final=false) and rethrows when attempts are left', async () => {
      const error = new Error('SMTP refused');
      handler.run.mockRejectedValue(error);

      await expect(
        runner.run(
          job({ taskId: TASK_ID, payload: {} }, { attemptsMade: 1, attempts: 3 }),
          shutdown.signal,
        ),
      ).rejects.toBe(error);

      expect(state.markFailed).toHaveBeenCalledWith(runOf(2), 'SMTP refused', false);
      expect(state.markSucceeded).not.toHaveBeenCalled();
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'retried');
    });

    it('fails the task for good (final=true) on the last attempt', async () => {
      handler.run.mockRejectedValue(new Error('SMTP refused'));

      await expect(
        runner.run(
          job({ taskId: TASK_ID, payload: {} }, { attemptsMade: 2, attempts: 3 }),
          shutdown.signal,
        ),
      ).rejects.toThrow('SMTP refused');

      expect(state.markFailed).toHaveBeenCalledWith(runOf(3), 'SMTP refused', true);
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'failed');
    });

    it('treats a job without an attempts option as a single attempt', async () => {
      handler.run.mockRejectedValue(new Error('no'));
      const single = job({ taskId: TASK_ID, payload: {} });
      single.opts = {};

      await expect(runner.run(single, shutdown.signal)).rejects.toThrow('no');

      expect(state.markFailed).toHaveBeenCalledWith(runOf(), 'no', true);
    });

    it('fails for good on the first attempt when the handler throws UnrecoverableError', async () => {
      handler.run.mockRejectedValue(new UnrecoverableError('bad input'));

      await expect(
        runner.run(job({ taskId: TASK_ID, payload: {} }, { attempts: 3 }), shutdown.signal),
      ).rejects.toThrow(UnrecoverableError);

      expect(state.markFailed).toHaveBeenCalledWith(runOf(), 'bad input', true);
    });

    it('records a bounded, non-empty error message', async () => {
      handler.run.mockRejectedValueOnce(new Error('x'.repeat(5_000)));
      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow();
      expect(state.markFailed).toHaveBeenLastCalledWith(runOf(), 'x'.repeat(1_000), false);

      handler.run.mockRejectedValueOnce(new Error(''));
      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow();
      expect(state.markFailed).toHaveBeenLastCalledWith(runOf(), 'The task failed.', false);
    });
  });

  describe('aborting', () => {
    it('aborts the signal of a handler that times out and fails the attempt', async () => {
      jest.useFakeTimers();
      registry.get.mockReturnValue(registered(handler, 5_000));
      let signal: AbortSignal | undefined;
      handler.run.mockImplementation((_payload, context) => {
        signal = context.signal;
        return new Promise(() => undefined); // ignores its signal: the timeout still ends the run
      });

      const run = runner.run(job({ taskId: TASK_ID, payload: {} }), shutdown.signal);
      const settled = expect(run).rejects.toThrow('Timed out after 5000 ms');
      await jest.advanceTimersByTimeAsync(4_999);
      expect(signal?.aborted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await settled;

      expect(signal?.aborted).toBe(true);
      expect(state.markFailed).toHaveBeenCalledWith(runOf(), 'Timed out after 5000 ms', false);
      expect(state.markSucceeded).not.toHaveBeenCalled();
    });

    it('aborts the signal of the handler when the worker shuts down', async () => {
      let signal: AbortSignal | undefined;
      handler.run.mockImplementation((_payload, context) => {
        signal = context.signal;
        return untilAborted(context);
      });

      const run = runner.run(job({ taskId: TASK_ID, payload: {} }), shutdown.signal);
      await new Promise(setImmediate); // let the runner reach the handler
      expect(handler.run).toHaveBeenCalled();
      shutdown.abort('SIGTERM');

      await expect(run).rejects.toThrow('aborted');
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe('SIGTERM');
      expect(state.markFailed).toHaveBeenCalledWith(runOf(), 'aborted', false);
    });

    it('clears its timer and stops listening for shutdown once the run ends', async () => {
      jest.useFakeTimers();
      let signal: AbortSignal | undefined;
      handler.run.mockImplementation(async (_payload, context) => {
        signal = context.signal;
        return {};
      });

      await runner.run(job({ taskId: TASK_ID, payload: {} }), shutdown.signal);
      shutdown.abort('SIGTERM');

      expect(jest.getTimerCount()).toBe(0);
      expect(signal?.aborted).toBe(false);
    });
  });

  describe('secret payloads (payloadRef)', () => {
    const payloadRef = { file: `task-inputs/${TASK_ID}.json` };
    const secret = { rows: [{ email: 'a@example.com', password: 'hunter2hunter2' }] };

    beforeEach(() => vault.load.mockResolvedValue(secret));

    it('runs the handler with the payload loaded from the vault and removes it on success', async () => {
      handler.run.mockResolvedValue({ created: 1 });

      await runner.run(job({ taskId: TASK_ID, payloadRef }), shutdown.signal);

      expect(vault.load).toHaveBeenCalledWith(payloadRef);
      expect(handler.run).toHaveBeenCalledWith(secret, expect.anything());
      expect(vault.remove).toHaveBeenCalledWith(TASK_ID);
    });

    it('keeps the stored payload after a failure that will be retried', async () => {
      handler.run.mockRejectedValue(new Error('database busy'));

      await expect(
        runner.run(job({ taskId: TASK_ID, payloadRef }, { attemptsMade: 0 }), shutdown.signal),
      ).rejects.toThrow('database busy');

      expect(state.markFailed).toHaveBeenCalledWith(runOf(), 'database busy', false);
      expect(vault.remove).not.toHaveBeenCalled();
    });

    it('removes the stored payload after the final failure', async () => {
      handler.run.mockRejectedValue(new Error('database busy'));

      await expect(
        runner.run(job({ taskId: TASK_ID, payloadRef }, { attemptsMade: 2 }), shutdown.signal),
      ).rejects.toThrow('database busy');

      expect(state.markFailed).toHaveBeenCalledWith(runOf(3), 'database busy', true);
      expect(vault.remove).toHaveBeenCalledWith(TASK_ID);
    });

    it('fails the task for good when the stored payload cannot be read', async () => {
      vault.load.mockRejectedValue(new Error('ENOENT'));

      await expect(
        runner.run(job({ taskId: TASK_ID, payloadRef }), shutdown.signal),
      ).rejects.toThrow(UnrecoverableError);

      expect(handler.run).not.toHaveBeenCalled();
      expect(state.markFailed).toHaveBeenCalledWith(runOf(), expect.any(String), true);
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'failed');
    });
  });

  describe('scheduled jobs', () => {
    it('records the run as a task of its own, handed off like any other, without running it here', async () => {
      outbox.submitScheduled.mockResolvedValue(TASK_ID);

      await runner.run(job({ scheduled: true }, { id: 'repeat:signups:1' }), shutdown.signal);

      expect(outbox.submitScheduled).toHaveBeenCalledWith(
        expect.objectContaining({ handler }),
        'repeat:signups:1',
      );
      expect(state.markRunning).not.toHaveBeenCalled();
      expect(handler.run).not.toHaveBeenCalled();
    });
  });

  describe('a job handed off again (attemptsBefore)', () => {
    it('numbers attempts after those used before, and fails for good on the last one left', async () => {
      handler.run.mockRejectedValue(new Error('no'));

      await expect(
        runner.run(
          job({ taskId: TASK_ID, attemptsBefore: 2 }, { attemptsMade: 0, attempts: 1 }),
          shutdown.signal,
        ),
      ).rejects.toThrow('no');

      expect(state.markFailed).toHaveBeenCalledWith(runOf(3), 'no', true);
    });
  });

  describe('PostgreSQL unreachable', () => {
    it('does not record a failure for an attempt that failed only because of it', async () => {
      handler.run.mockRejectedValue(new Error('query failed', { cause: refused() }));

      await expect(
        runner.run(job({ taskId: TASK_ID }, { attemptsMade: 2, attempts: 3 }), shutdown.signal),
      ).rejects.toThrow('query failed');

      expect(state.markFailed).not.toHaveBeenCalled();
      expect(metrics.countRun).not.toHaveBeenCalled();
    });

    it('lets the error of a read or claim before the run reach the worker', async () => {
      state.standing.mockRejectedValueOnce(refused());
      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow(
        'ECONNREFUSED',
      );

      state.standing.mockResolvedValue('contended');
      state.markRunning.mockRejectedValue(refused());
      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow(
        'ECONNREFUSED',
      );
      expect(handler.run).not.toHaveBeenCalled();
    });

    it('records a finished task’s outcome once it is back, retrying with backoff', async () => {
      jest.useFakeTimers();
      // Long enough to be claimed: the heartbeat keeps its row fresh while the outcome waits.
      handler.run.mockImplementation(
        () => new Promise((resolve) => setTimeout(() => resolve({ ok: true }), 100)),
      );
      state.markSucceeded
        .mockRejectedValueOnce(refused())
        .mockRejectedValueOnce(new Error('Connection terminated unexpectedly'))
        .mockResolvedValueOnce();

      const run = runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      await jest.advanceTimersByTimeAsync(100 + 250);
      expect(state.markSucceeded).toHaveBeenCalledTimes(2);
      expect(runner.runningTaskIds()).toEqual([TASK_ID]);
      await jest.advanceTimersByTimeAsync(500);
      await run;

      expect(state.markSucceeded).toHaveBeenCalledTimes(3);
      expect(state.markFailed).not.toHaveBeenCalled();
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'succeeded');
      expect(runner.runningTaskIds()).toEqual([]);
    });

    it('retries recording a failure the same way', async () => {
      jest.useFakeTimers();
      handler.run.mockRejectedValue(new Error('SMTP refused'));
      state.markFailed.mockRejectedValueOnce(refused()).mockResolvedValueOnce();

      const run = runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      const settled = expect(run).rejects.toThrow('SMTP refused');
      await jest.advanceTimersByTimeAsync(250);
      await settled;

      expect(state.markFailed).toHaveBeenCalledTimes(2);
      expect(state.markFailed).toHaveBeenLastCalledWith(runOf(), 'SMTP refused', false);
    });

    it('stops waiting at shutdown: the job runs again later', async () => {
      handler.run.mockResolvedValue({});
      state.markSucceeded.mockRejectedValue(refused());

      const run = runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      const settled = expect(run).rejects.toThrow('ECONNREFUSED');
      await new Promise((resolve) => setTimeout(resolve, 20));
      shutdown.abort('SIGTERM');
      await settled;

      expect(state.markFailed).not.toHaveBeenCalled();
    });

    it('does not retry an outcome that failed for another reason', async () => {
      handler.run.mockResolvedValue({});
      state.markSucceeded.mockRejectedValue(new Error('value too long'));

      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow(
        'value too long',
      );
      expect(state.markSucceeded).toHaveBeenCalledTimes(1);
      expect(state.markFailed).toHaveBeenCalledWith(runOf(), 'value too long', false);
    });
  });
});
