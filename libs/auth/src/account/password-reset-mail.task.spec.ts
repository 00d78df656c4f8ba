import { AppConfig } from '@girder/config';
import { Mailer } from '@girder/mail';
import type { TaskContext } from '@girder/tasks';
import { UsersService, type UserDto } from '@girder/users';
import { autoMock, newTestService } from '../../../../test/unit/new-test-service';
import { AccountLinks } from './account-links';
import { AccountMailSender } from './account-mail-sender';
import { AccountTokensRepository } from './account-tokens.repository';
import { PasswordResetMailTask } from './password-reset-mail.task';

const settings: Record<string, unknown> = {
  PASSWORD_RESET_TTL_MINUTES: 30,
  ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR: 3,
  APP_URL: 'https://app.example.com/',
  RESET_PASSWORD_URL: undefined,
};
const ada = { id: 'user-1', email: 'ada@example.com', name: 'Ada <b>', isActive: true } as UserDto;
const context = { taskId: 'task-1' } as TaskContext;

describe('PasswordResetMailTask', () => {
  let task: PasswordResetMailTask;
  let users: jest.Mocked<UsersService>;
  let tokens: jest.Mocked<AccountTokensRepository>;
  let mailer: jest.Mocked<Mailer>;

  beforeEach(async () => {
    const config = { get: (key: string) => settings[key] } as AppConfig;
    tokens = autoMock(AccountTokensRepository);
    mailer = autoMock(Mailer);
    const built = await newTestService(PasswordResetMailTask, [
      { provide: AppConfig, useValue: config },
      { provide: AccountLinks, useValue: new AccountLinks(config) },
      { provide: AccountMailSender, useValue: new AccountMailSender(tokens, mailer, config) },
    ]);
    task = built.sut;
    users = built.mock(UsersService);
    tokens.countIssuedWithin.mockResolvedValue(0);
    tokens.issue.mockResolvedValue('the-token');
    mailer.send.mockResolvedValue({ transport: 'outbox', messageId: 'm', file: 'outbox/x.eml' });
  });

  it('mails an active user a 30-minute link into APP_URL, with the name escaped in HTML', async () => {
    users.findByEmail.mockResolvedValue(ada);
    await task.run({ email: ada.email }, context);
    expect(tokens.issue).toHaveBeenCalledWith('user-1', ada.email, 'reset-password', 30 * 60_000);
    const [mail, name] = mailer.send.mock.calls[0];
    expect(name).toBe('password-reset-task-1');
    expect(mail.to).toBe(ada.email);
    expect(mail.text).toContain('https://app.example.com/reset-password?token=the-token');
    expect(mail.html).toContain('Ada &lt;b&gt;');
    expect(mail.html).not.toContain('<b>');
  });

  it.each([
    ['unknown', null],
    ['inactive', { ...ada, isActive: false }],
  ])('sends nothing for an %s address', async (_case, user) => {
    users.findByEmail.mockResolvedValue(user);
    expect(await task.run({ email: ada.email }, context)).toEqual({
      skipped: 'no active account has this address',
    });
    expect(tokens.issue).not.toHaveBeenCalled();
    expect(mailer.send).not.toHaveBeenCalled();
  });

  it('sends at most ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR mails an hour, whatever the HTTP limits let through', async () => {
    users.findByEmail.mockResolvedValue(ada);
    tokens.countIssuedWithin.mockResolvedValue(3);
    expect(await task.run({ email: ada.email }, context)).toEqual({
      skipped: 'too many mails of this kind in the last hour',
    });
    expect(tokens.countIssuedWithin).toHaveBeenCalledWith('user-1', 'reset-password', 3_600_000);
    expect(mailer.send).not.toHaveBeenCalled();
  });
});
