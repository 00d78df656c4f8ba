import { UnrecoverableError, type Job } from 'bullmq';
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
    const service = await newTestService(TaskRunner);
    runner = service.sut;
    registry = service.mock(TaskRegistry);
    tasks = service.mock(TasksRepository);
    state = service.mock(TaskStateWriter);
    metrics = service.mock(TaskMetrics);
    vault = service.mock(TaskPayloadVault);
    outbox = service.mock(TaskOutbox);
    handler = handlerMock();
    registry.get.mockReturnValue(registered(handler));
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
      state.markRunning.mockResolvedValue(false);

      await runner.run(job({ taskId: TASK_ID }, { attemptsMade: 1 }), shutdown.signal);

      expect(state.markRunning).toHaveBeenCalledWith(TASK_ID, 2);
      expect(handler.run).not.toHaveBeenCalled();
      expect(state.markSucceeded).not.toHaveBeenCalled();
      expect(state.markFailed).not.toHaveBeenCalled();
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'skipped');
      // A cancelled secret-payload task leaves no input file behind.
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

      expect(state.markRunning).toHaveBeenCalledWith(TASK_ID, 1);
      expect(handler.run).toHaveBeenCalledWith(
        { from: 'x' },
        expect.objectContaining({ taskId: TASK_ID, attempt: 1 }),
      );
      expect(handler.file).toHaveBeenCalledWith(result);
      expect(state.markSucceeded).toHaveBeenCalledWith(TASK_ID, result, file);
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
      state.markRunning.mockResolvedValue(false);
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

      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'SMTP refused', false);
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

      expect(state.markRunning).toHaveBeenCalledWith(TASK_ID, 3);
      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'SMTP refused', true);
      expect(metrics.countRun).toHaveBeenCalledWith('reports', 'example.run', 'failed');
    });

    it('treats a job without an attempts option as a single attempt', async () => {
      handler.run.mockRejectedValue(new Error('no'));
      const single = job({ taskId: TASK_ID, payload: {} });
      single.opts = {};

      await expect(runner.run(single, shutdown.signal)).rejects.toThrow('no');

      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'no', true);
    });

    it('fails for good on the first attempt when the handler throws UnrecoverableError', async () => {
      handler.run.mockRejectedValue(new UnrecoverableError('bad input'));

      await expect(
        runner.run(job({ taskId: TASK_ID, payload: {} }, { attempts: 3 }), shutdown.signal),
      ).rejects.toThrow(UnrecoverableError);

      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'bad input', true);
    });

    it('records a bounded, non-empty error message', async () => {
      handler.run.mockRejectedValueOnce(new Error('x'.repeat(5_000)));
      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow();
      expect(state.markFailed).toHaveBeenLastCalledWith(TASK_ID, 'x'.repeat(1_000), false);

      handler.run.mockRejectedValueOnce(new Error(''));
      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow();
      expect(state.markFailed).toHaveBeenLastCalledWith(TASK_ID, 'The task failed.', false);
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
      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'Timed out after 5000 ms', false);
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
      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'aborted', false);
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

      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'database busy', false);
      expect(vault.remove).not.toHaveBeenCalled();
    });

    it('removes the stored payload after the final failure', async () => {
      handler.run.mockRejectedValue(new Error('database busy'));

      await expect(
        runner.run(job({ taskId: TASK_ID, payloadRef }, { attemptsMade: 2 }), shutdown.signal),
      ).rejects.toThrow('database busy');

      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'database busy', true);
      expect(vault.remove).toHaveBeenCalledWith(TASK_ID);
    });

    it('fails the task for good when the stored payload cannot be read', async () => {
      vault.load.mockRejectedValue(new Error('ENOENT'));

      await expect(
        runner.run(job({ taskId: TASK_ID, payloadRef }), shutdown.signal),
      ).rejects.toThrow(UnrecoverableError);

      expect(handler.run).not.toHaveBeenCalled();
      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, expect.any(String), true);
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

      expect(state.markRunning).toHaveBeenCalledWith(TASK_ID, 3);
      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'no', true);
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

    it('lets the error of a claim that could not be written reach the worker', async () => {
      state.markRunning.mockRejectedValue(refused());

      await expect(runner.run(job({ taskId: TASK_ID }), shutdown.signal)).rejects.toThrow(
        'ECONNREFUSED',
      );
      expect(handler.run).not.toHaveBeenCalled();
    });

    it('records a finished task’s outcome once it is back, retrying with backoff', async () => {
      jest.useFakeTimers();
      handler.run.mockResolvedValue({ ok: true });
      state.markSucceeded
        .mockRejectedValueOnce(refused())
        .mockRejectedValueOnce(new Error('Connection terminated unexpectedly'))
        .mockResolvedValueOnce();

      const run = runner.run(job({ taskId: TASK_ID }), shutdown.signal);
      await jest.advanceTimersByTimeAsync(250);
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
      expect(state.markFailed).toHaveBeenLastCalledWith(TASK_ID, 'SMTP refused', false);
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
      expect(state.markFailed).toHaveBeenCalledWith(TASK_ID, 'value too long', false);
    });
  });
});
