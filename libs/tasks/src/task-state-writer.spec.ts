import { newTestService } from '../../../test/unit/new-test-service';
import { TaskStateWriter } from './task-state-writer';
import { TasksRepository } from './tasks.repository';

/** What node-postgres throws when PostgreSQL is unreachable. */
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('TaskStateWriter', () => {
  let writer: TaskStateWriter;
  let tasks: jest.Mocked<TasksRepository>;

  beforeEach(async () => {
    const service = await newTestService(TaskStateWriter);
    writer = service.sut;
    tasks = service.mock(TasksRepository);
    tasks.markSucceeded.mockResolvedValue();
    tasks.markFailed.mockResolvedValue();
  });

  it('claims the runs that start together in one statement and answers each whether it was claimed', async () => {
    tasks.markRunning.mockResolvedValue(new Set(['a', 'c']));

    const claimed = await Promise.all([
      writer.markRunning('a', 1),
      writer.markRunning('b', 2),
      writer.markRunning('c', 1),
    ]);

    expect(claimed).toEqual([true, false, true]);
    expect(tasks.markRunning.mock.calls).toEqual([
      [
        [
          { id: 'a', attempt: 1 },
          { id: 'b', attempt: 2 },
          { id: 'c', attempt: 1 },
        ],
      ],
    ]);
  });

  it('records outcomes that arrive together in one statement per kind', async () => {
    const file = { path: '/exports/a.csv', contentType: 'text/csv' };

    await Promise.all([
      writer.markSucceeded('a', { rows: 1 }, file),
      writer.markSucceeded('b', { rows: 2 }),
      writer.markFailed('c', 'SMTP refused', false),
      writer.markFailed('d', 'bad input', true),
    ]);

    expect(tasks.markSucceeded.mock.calls).toEqual([
      [
        [
          { id: 'a', result: { rows: 1 }, file },
          { id: 'b', result: { rows: 2 }, file: undefined },
        ],
      ],
    ]);
    expect(tasks.markFailed.mock.calls).toEqual([
      [
        [
          { id: 'c', error: 'SMTP refused', final: false },
          { id: 'd', error: 'bad input', final: true },
        ],
      ],
    ]);
  });

  it('writes calls made at different moments separately', async () => {
    await writer.markSucceeded('a', {});
    await writer.markSucceeded('b', {});

    expect(tasks.markSucceeded).toHaveBeenCalledTimes(2);
  });

  it('fails only the outcome the database refuses: the others are then written alone', async () => {
    tasks.markSucceeded.mockImplementation(async (outcomes) => {
      if (outcomes.some((outcome) => outcome.id === 'bad'))
        throw new Error('unsupported Unicode escape sequence');
    });

    const [good, bad] = await Promise.allSettled([
      writer.markSucceeded('good', { ok: true }),
      writer.markSucceeded('bad', { text: '\u0000' }),
    ]);

    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: /Unicode/ } });
  });

  it('gives every caller the error, without writing each alone, while PostgreSQL is unreachable', async () => {
    tasks.markSucceeded.mockRejectedValue(refused());

    const outcomes = await Promise.allSettled([
      writer.markSucceeded('a', {}),
      writer.markSucceeded('b', {}),
    ]);

    expect(outcomes).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ code: 'ECONNREFUSED' }) },
      { status: 'rejected', reason: expect.objectContaining({ code: 'ECONNREFUSED' }) },
    ]);
    expect(tasks.markSucceeded).toHaveBeenCalledTimes(1);
  });
});
