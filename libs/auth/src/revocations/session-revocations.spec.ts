import type { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { AppConfig } from '@girder/config';
import { REVOCATION_CHANNEL, SessionRevocations } from './session-revocations';

// No database transaction: after-commit hooks run at once.
jest.mock('@girder/database', () => ({
  ...jest.requireActual<object>('@girder/database'),
  afterCommit: async (hook: () => unknown) => {
    await hook();
  },
}));

const NOW = Date.parse('2024-05-01T10:00:00.000Z');
const ACCESS_TTL_S = 900;

describe('SessionRevocations', () => {
  let query: jest.Mock;
  let revocations: SessionRevocations;

  beforeEach(() => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW);
    query = jest.fn().mockResolvedValue([]);
    const txHost = { tx: { query } } as unknown as TransactionHost<TransactionalAdapterTypeOrm>;
    const config = {
      get: (key: string) => (key === 'JWT_ACCESS_TTL' ? ACCESS_TTL_S : 'postgres://unused'),
    } as unknown as AppConfig;
    revocations = new SessionRevocations(txHost, config);
  });
  afterEach(() => jest.restoreAllMocks());

  const load = () => (revocations as unknown as { load(ms: number): Promise<void> }).load(60_000);

  it('writes the revocation and its notification in the caller’s transaction, then honours it', async () => {
    await revocations.revoke(['family-a', 'family-b']);
    expect(query).toHaveBeenNthCalledWith(
      1,
      expect.stringContaining('INSERT INTO session_revocations'),
      [['family-a', 'family-b']],
    );
    expect(query).toHaveBeenNthCalledWith(2, 'SELECT pg_notify($1, $2)', [
      REVOCATION_CHANNEL,
      'family-a,family-b',
    ]);
    expect(revocations.isRevoked('family-a')).toBe(true);
    expect(revocations.isRevoked('family-c')).toBe(false);
  });

  it('splits large revocations over several notifications (PostgreSQL caps payloads at 8000 bytes)', async () => {
    const families = Array.from({ length: 450 }, (_, index) => `family-${index}`);
    await revocations.revoke(families);
    const notifications = query.mock.calls.filter(([sql]) => String(sql).includes('pg_notify'));
    expect(notifications.map(([, [, payload]]) => String(payload).split(',').length)).toEqual([
      200, 200, 50,
    ]);
  });

  it('learns revocations made by other processes from PostgreSQL', async () => {
    query.mockResolvedValueOnce([{ family: 'elsewhere', revoked_at: new Date(NOW - 1_000) }]);
    await load();
    expect(revocations.isRevoked('elsewhere')).toBe(true);
  });

  it('forgets revocations older than an access token can live', async () => {
    query.mockResolvedValueOnce([
      { family: 'old', revoked_at: new Date(NOW - (ACCESS_TTL_S + 61) * 1000) },
      { family: 'recent', revoked_at: new Date(NOW - (ACCESS_TTL_S - 1) * 1000) },
    ]);
    await load();
    expect(revocations.isRevoked('old')).toBe(false);
    expect(revocations.isRevoked('recent')).toBe(true);
  });

  it('an empty revocation writes nothing', async () => {
    await revocations.revoke([]);
    expect(query).not.toHaveBeenCalled();
  });
});
