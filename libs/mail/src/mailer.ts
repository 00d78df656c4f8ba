import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { createTransport, type Transporter } from 'nodemailer';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** An HTML alternative to `text`; build it with `html` from this library (escapes values). */
  html?: string;
}

export interface SentMail {
  transport: 'smtp' | 'outbox';
  messageId: string;
  /** The .eml file, relative to STORAGE_DIR, when written to the outbox. */
  file?: string;
}

const FROM = 'Girder <no-reply@girder.local>';

/**
 * nodemailer over SMTP_URL; without it (development), each message is written to
 * STORAGE_DIR/outbox as an .eml file: open the newest one with any mail client.
 */
@Injectable()
export class Mailer implements OnModuleDestroy {
  private readonly logger = new Logger('Mailer');
  private readonly smtp?: Transporter;
  private readonly outbox = createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
  });

  private readonly outboxDirectory: string;

  constructor(config: AppConfig) {
    const url = config.get('SMTP_URL');
    if (url) this.smtp = createTransport(url);
    this.outboxDirectory = resolve(config.get('STORAGE_DIR'), 'outbox');
  }

  async send(mail: OutgoingMail, name: string): Promise<SentMail> {
    const message = { from: FROM, ...mail };
    if (this.smtp) {
      const info = (await this.smtp.sendMail(message)) as { messageId: string };
      return { transport: 'smtp', messageId: info.messageId };
    }
    const info = (await this.outbox.sendMail(message)) as { messageId: string; message: Buffer };
    const file = join('outbox', `${name}.eml`);
    await mkdir(this.outboxDirectory, { recursive: true });
    await writeFile(join(this.outboxDirectory, `${name}.eml`), info.message);
    this.logger.log(`SMTP_URL not set: wrote ${file}`);
    return { transport: 'outbox', messageId: info.messageId, file };
  }

  onModuleDestroy(): void {
    this.smtp?.close();
  }
}
