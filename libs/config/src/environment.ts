import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { IsTrustProxy, toTrustProxy, type TrustProxy } from './trust-proxy';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Development defaults of the secrets; production refuses them (see `SHIPPED_SECRETS`). */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';
export const DEVELOPMENT_ADMIN_EMAIL = 'admin@girder.local';
export const DEVELOPMENT_ADMIN_PASSWORD = 'change-me-admin-password';

/**
 * Every secret value that has ever shipped in this repository (code defaults, .env.example,
 * docker-compose.yml, the test harness). They are public, so production refuses to boot with
 * any of them. A spec checks that every value those files carry is listed here.
 */
export const SHIPPED_SECRETS: Readonly<Record<'JWT_SECRET' | 'ADMIN_PASSWORD', readonly string[]>> =
  {
    JWT_SECRET: [DEVELOPMENT_JWT_SECRET, 'compose-development-only-secret-change-me-0123456789'],
    ADMIN_PASSWORD: [DEVELOPMENT_ADMIN_PASSWORD, 'e2e-admin-password'],
  };

/** Production's minimum admin password length (development accepts 8). */
export const PRODUCTION_MIN_ADMIN_PASSWORD_LENGTH = 12;

const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;
const REDIS_URL = /^rediss?:\/\/\S+$/;

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const normalised = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalised)) return true;
  if (['false', '0', 'no', 'off', ''].includes(normalised)) return false;
  return value;
};

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0)
    : value;

/**
 * Every environment variable Girder reads, with its validation rule and its development
 * default. The defaults are the ones in `.env.example`: they run against the local
 * PostgreSQL and Redis, so a fresh clone starts without a `.env`. In production the
 * secrets have no default (see `PRODUCTION_REQUIRED`).
 */
export class Environment {
  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  /** 0 picks a free port (used by the e2e suites). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /**
   * No default: unset in development, `npm start` runs an embedded PostgreSQL and the apps find
   * the one running for this project (see `useEmbeddedPostgresIfRunning`). Production needs it.
   */
  @ValidateIf((environment: Environment) => environment.DATABASE_URL !== undefined)
  @Matches(POSTGRES_URL, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL!: string;

  @Transform(toList)
  @IsOptional()
  @Matches(POSTGRES_URL, { each: true, message: 'DATABASE_READ_URLS must be postgres:// URLs' })
  DATABASE_READ_URLS: string[] = [];

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /**
   * Unset: Girder runs on PostgreSQL alone and opens no Redis connection (queues on BullMQ's
   * PostgreSQL backend; the cache in each process, invalidated over LISTEN/NOTIFY; rate-limit
   * counters in each process, so N API processes allow up to N times a limit). Set: queues,
   * cache and rate limits use this Redis.
   */
  @IsOptional()
  @Matches(REDIS_URL, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Every Redis key Girder writes starts with this, so several deployments (or test runs) can share one Redis. */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'REDIS_KEY_PREFIX must be 1..64 characters of A-Z a-z 0-9 _ -',
  })
  REDIS_KEY_PREFIX = 'girder';

  /**
   * The response/method cache's Redis; empty = REDIS_URL. Its keys live under
   * `<REDIS_KEY_PREFIX>:cache`. Only with REDIS_URL (refused alone): without Redis the cache is
   * in-process, kept coherent over PostgreSQL LISTEN/NOTIFY.
   */
  @IsOptional()
  @Matches(REDIS_URL, { message: 'CACHE_REDIS_URL must be a redis:// or rediss:// URL' })
  CACHE_REDIS_URL?: string;

  /** false: every cached read goes to the source (for measuring, or to rule the cache out). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'CACHE_ENABLED must be true or false' })
  CACHE_ENABLED = true;

  /** Default lifetime of cache entries; writes invalidate them earlier. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  CACHE_TTL_SECONDS = 60;

  /** Entries of the in-process cache level in front of Redis, per process; 0 turns it off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  CACHE_LOCAL_MAX_ENTRIES = 5_000;

  /** Most megabytes (of JSON text) the in-process cache level holds, per process. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(4_096)
  CACHE_LOCAL_MAX_MB = 32;

  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET = DEVELOPMENT_JWT_SECRET;

  @Type(() => Number)
  @IsInt()
  @Min(30)
  @Max(86_400)
  JWT_ACCESS_TTL = 900;

  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(31_536_000)
  JWT_REFRESH_TTL = 2_592_000;

  /** argon2id cost (OWASP minimum: 19 MiB, 2 iterations, 1 lane). Raising it slows every login. */
  @Type(() => Number)
  @IsInt()
  @Min(8_192)
  @Max(1_048_576)
  PASSWORD_HASH_MEMORY_KIB = 19_456;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10)
  PASSWORD_HASH_ITERATIONS = 2;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(8)
  PASSWORD_HASH_PARALLELISM = 1;

  /** argon2 hashes computed at once per process; more wait in line (logins first). Keep it below UV_THREADPOOL_SIZE (4). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  PASSWORD_HASH_CONCURRENCY = 2;

  /** The admin seeded at start. Empty (or unset in production): no admin is seeded. */
  @IsEmail({}, { message: 'ADMIN_EMAIL must be an email' })
  @IsOptional()
  ADMIN_EMAIL?: string = DEVELOPMENT_ADMIN_EMAIL;

  @IsString()
  @MinLength(8, { message: 'ADMIN_PASSWORD must be at least 8 characters' })
  @MaxLength(128)
  @IsOptional()
  ADMIN_PASSWORD?: string = DEVELOPMENT_ADMIN_PASSWORD;

  @Transform(toList)
  @Matches(/^https?:\/\/[^\s,/]+$/, {
    each: true,
    message: 'CORS_ORIGINS must be origins like https://app.example.com',
  })
  CORS_ORIGINS: string[] = [];

  @Type(() => Number)
  @IsInt()
  @Min(1)
  RATE_LIMIT_PER_MINUTE = 600;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  LOGIN_RATE_LIMIT_PER_MINUTE = 5;

  /** POST /auth/register per client IP: sign-ups cost an argon2 hash each. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  REGISTER_RATE_LIMIT_PER_MINUTE = 10;

  /** POST /auth/password/forgot and /auth/verify-email/resend per client IP. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ACCOUNT_MAIL_RATE_LIMIT_PER_MINUTE = 5;

  /** Account mails (reset, verification) per recipient address or account, per hour. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  ACCOUNT_MAIL_RATE_LIMIT_PER_HOUR = 5;

  /** Express's `trust proxy`: false, a hop count, or proxy addresses/CIDRs/names (see trust-proxy.ts). */
  @Transform(toTrustProxy)
  @IsTrustProxy()
  TRUST_PROXY: TrustProxy = false;

  @Matches(/^(auto|[1-9][0-9]?)$/, { message: 'API_WORKERS must be "auto" or a number 1..99' })
  API_WORKERS = '1';

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(256)
  WORKER_CONCURRENCY = 4;

  /** 0 picks a free port (used by the e2e suites). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_HEALTH_PORT = 3001;

  /** How long a worker's job lock lasts without renewal: after a crash, the job is retried after about this long. */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  TASK_LOCK_DURATION_MS = 30_000;

  /** A task still running after this long is recorded as running; a quicker one goes from queued to its end in one write. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(600_000)
  TASK_RUNNING_AFTER_MS = 50;

  /** How often workers look for jobs whose worker died (stalled jobs). */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(600_000)
  TASK_STALLED_INTERVAL_MS = 30_000;

  /** How often a worker hands off committed tasks whose job never reached Redis (the outbox sweep), and checks whether Redis lost its data. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  TASK_OUTBOX_SWEEP_MS = 2_000;

  /** How often a worker checks that queued and running tasks still have their job in Redis (re-queuing those that lost it). */
  @Type(() => Number)
  @IsInt()
  @Min(1_000)
  @Max(86_400_000)
  TASK_RECONCILE_MS = 60_000;

  @IsString()
  @MinLength(1)
  STORAGE_DIR = './storage';

  @IsOptional()
  @Matches(/^smtps?:\/\/\S+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** When set, `/metrics` (API and worker health port) answers only `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  /** The front end's base URL: account mails link to it. */
  @Matches(/^https?:\/\/[^\s{}]+$/, { message: 'APP_URL must be an http:// or https:// URL' })
  APP_URL = 'http://localhost:3000';

  /** The verification link in mails; `{token}` is replaced. Default `<APP_URL>/verify-email?token={token}`. */
  @IsOptional()
  @Matches(/^https?:\/\/\S*\{token\}\S*$/, {
    message: 'VERIFY_EMAIL_URL must be an http(s) URL containing {token}',
  })
  VERIFY_EMAIL_URL?: string;

  /** The password-reset link in mails; `{token}` is replaced. Default `<APP_URL>/reset-password?token={token}`. */
  @IsOptional()
  @Matches(/^https?:\/\/\S*\{token\}\S*$/, {
    message: 'RESET_PASSWORD_URL must be an http(s) URL containing {token}',
  })
  RESET_PASSWORD_URL?: string;

  /** How long a password-reset link works. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24 * 60)
  PASSWORD_RESET_TTL_MINUTES = 30;

  /** How long an email-verification link works. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(30 * 24)
  EMAIL_VERIFICATION_TTL_HOURS = 48;

  /** When true, `IsAuthenticated` also requires a verified email (403 EMAIL_NOT_VERIFIED). */
  @Transform(toBoolean)
  @IsBoolean({ message: 'REQUIRE_EMAIL_VERIFICATION must be true or false' })
  REQUIRE_EMAIL_VERIFICATION = false;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** Unset: human-readable when stdout is a terminal (and pino-pretty is installed), JSON otherwise. */
  @Transform(toBoolean)
  @IsOptional()
  @IsBoolean({ message: 'LOG_PRETTY must be true or false (or unset: automatic)' })
  LOG_PRETTY?: boolean;

  @IsString()
  @Matches(/^(\S+\s+){4,5}\S+$/, { message: 'REPORTS_SIGNUPS_CRON must be a cron expression' })
  REPORTS_SIGNUPS_CRON = '0 0 * * *';

  /** How long a stopping process waits for in-flight requests and jobs before it gives up. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 10_000;
}

/** Variables that must be set explicitly when NODE_ENV=production: their defaults are for development only. */
export const PRODUCTION_REQUIRED: ReadonlyArray<keyof Environment> = ['DATABASE_URL', 'JWT_SECRET'];
