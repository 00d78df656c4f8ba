import { newTestService } from '../../../test/unit/new-test-service';
import { TaskStateWriter } from './task-state-writer';
import { TasksRepository } from './tasks.repository';

/** What node-postgres throws when PostgreSQL is unreachable. */
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

const STARTED = new Date('2026-12-03T10:00:00Z');
const run = (id: string, attempt = 1) => ({ id, attempt, startedAt: STARTED });

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
      writer.markRunning(run('a')),
      writer.markRunning(run('b', 2)),
      writer.markRunning(run('c')),
    ]);

    expect(claimed).toEqual([true, false, true]);
    expect(tasks.markRunning.mock.calls).toEqual([[[run('a'), run('b', 2), run('c')]]]);
  });

  it('records outcomes that arrive together in one statement per kind', async () => {
    const file = { path: '/exports/a.csv', contentType: 'text/csv' };

    await Promise.all([
      writer.markSucceeded(run('a'), { rows: 1 }, file),
      writer.markSucceeded(run('b'), { rows: 2 }),
      writer.markFailed(run('c'), 'SMTP refused', false),
      writer.markFailed(run('d'), 'bad input', true),
    ]);

    expect(tasks.markSucceeded.mock.calls).toEqual([
      [
        [
          { ...run('a'), result: { rows: 1 }, file },
          { ...run('b'), result: { rows: 2 }, file: undefined },
        ],
      ],
    ]);
    expect(tasks.markFailed.mock.calls).toEqual([
      [
        [
          { ...run('c'), error: 'SMTP refused', final: false },
          { ...run('d'), error: 'bad input', final: true },
        ],
      ],
    ]);
  });

  it('reads how the runs that start together stand in one statement', async () => {
    tasks.standings.mockResolvedValue(
      new Map([
        ['a', 'free'],
        ['b', 'ended'],
        ['c', 'contended'],
      ]),
    );

    const standings = await Promise.all(['a', 'b', 'c'].map((id) => writer.standing(id)));

    expect(standings).toEqual(['free', 'ended', 'contended']);
    expect(tasks.standings.mock.calls).toEqual([[['a', 'b', 'c']]]);
  });

  it('writes calls made at different moments separately', async () => {
    await writer.markSucceeded(run('a'), {});
    await writer.markSucceeded(run('b'), {});

    expect(tasks.markSucceeded).toHaveBeenCalledTimes(2);
  });

  it('fails only the outcome the database refuses: the others are then written alone', async () => {
    tasks.markSucceeded.mockImplementation(async (outcomes) => {
      if (outcomes.some((outcome) => outcome.id === 'bad'))
        throw new Error('unsupported Unicode escape sequence');
    });

    const [good, bad] = await Promise.allSettled([
      writer.markSucceeded(run('good'), { ok: true }),
      writer.markSucceeded(run('bad'), { text: '\u0000' }),
    ]);

    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: /Unicode/ } });
  });

  it('gives every caller the error, without writing each alone, while PostgreSQL is unreachable', async () => {
    tasks.markSucceeded.mockRejectedValue(refused());

    const outcomes = await Promise.allSettled([
      writer.markSucceeded(run('a'), {}),
      writer.markSucceeded(run('b'), {}),
    ]);

    expect(outcomes).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ code: 'ECONNREFUSED' }) },
      { status: 'rejected', reason: expect.objectContaining({ code: 'ECONNREFUSED' }) },
    ]);
    expect(tasks.markSucceeded).toHaveBeenCalledTimes(1);
  });
});
