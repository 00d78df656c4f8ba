export { LoginAttemptLimiter } from './login-attempt-limiter';
export {
  AccountMailRateLimit,
  LoginRateLimit,
  RegisterRateLimit,
} from './route-rate-limit.decorator';
export { RateLimitGuard } from './rate-limit.guard';
export { RateLimitModule } from './rate-limit.module';
export { InProcessRateLimitStorage } from './in-process-rate-limit-storage';
export { RateLimitStorage } from './rate-limit-storage';
export { rateLimitStorageProvider } from './rate-limit-storage.provider';
export { RedisRateLimitStorage } from './redis-rate-limit-storage';
export { SkipRateLimit } from './skip-rate-limit.decorator';
